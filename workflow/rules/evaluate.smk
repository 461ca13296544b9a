# Evaluation: real-set FID statistics once per dataset, per-shard scores, metrics.json per run
# (main, ablations, the copy-source baseline), the comparison grid, the HTML report and the
# comparison table. FID and LPIPS become null with their reason when their weights cannot be had.

rule fid_real_statistics:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        weights=lambda w: metric_weights(w.dataset),
    output:
        "results/{dataset}/fid/real.json",
    params:
        config=lambda w: evaluate_json(w.dataset),
        cache=lambda w: stats_cache(w.dataset),
    log:
        "results/logs/fid_real_statistics/{dataset}.log",
    benchmark:
        "results/benchmarks/fid_real_statistics/{dataset}.tsv"
    resources:
        gpu=1 if config["launch"]["sample_gpus"] else 0,
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf fid-stats --dataset {wildcards.dataset} --root {input.root} --index results/{wildcards.dataset}/data"
        " --cache {params.cache} --out {output} --config-json {params.config:q} > {log} 2>&1"


rule copy_source:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
    output:
        manifest="results/{dataset}/baselines/copy-source/samples/manifest.csv",
        shard="results/{dataset}/baselines/copy-source/samples/shards/0.csv",
    params:
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/copy_source/{dataset}.log",
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf copy-source --dataset {wildcards.dataset} --root {input.root} --index results/{wildcards.dataset}/data"
        " --out results/{wildcards.dataset}/baselines/copy-source/samples/images --manifest {output.manifest}"
        " --config-json {params.config:q} > {log} 2>&1 && cp {output.manifest} {output.shard}"


rule score_shard:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        shard="results/{dataset}{variant}/samples/shards/{shard}.csv",
        gathered="results/{dataset}{variant}/samples/manifest.csv",
        weights=lambda w: metric_weights(w.dataset),
    output:
        scores="results/{dataset}{variant}/scores/{shard}.csv",
        record="results/{dataset}{variant}/scores/{shard}.json",
    params:
        config=lambda w: evaluate_json(w.dataset),
    log:
        "results/logs/score_shard/{dataset}{variant}-{shard}.log",
    benchmark:
        "results/benchmarks/score_shard/{dataset}{variant}-{shard}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf score --dataset {wildcards.dataset} --root {input.root} --index results/{wildcards.dataset}/data"
        " --samples results/{wildcards.dataset}{wildcards.variant}/samples/images --manifest {input.shard}"
        " --out {output.scores} --config-json {params.config:q} > {log} 2>&1"


rule aggregate:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        manifest="results/{dataset}{variant}/samples/manifest.csv",
        scores=lambda w: expand(
            "results/{dataset}{variant}/scores/{shard}.csv",
            dataset=w.dataset,
            variant=w.variant,
            shard=range(num_shards(w.dataset, w.variant)),
        ),
        fid="results/{dataset}/fid/real.json",
        weights=lambda w: metric_weights(w.dataset),
    output:
        metrics="results/{dataset}{variant}/metrics.json",
        scores="results/{dataset}{variant}/metrics_scores.csv",
    params:
        config=lambda w: evaluate_json(w.dataset),
        cache=lambda w: stats_cache(w.dataset),
        method=lambda w: method_name(w.variant),
    log:
        "results/logs/aggregate/{dataset}{variant}.log",
    benchmark:
        "results/benchmarks/aggregate/{dataset}{variant}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf aggregate --dataset {wildcards.dataset} --root {input.root} --index results/{wildcards.dataset}/data"
        " --samples results/{wildcards.dataset}{wildcards.variant}/samples/images --manifest {input.manifest}"
        " --scores {input.scores} --method {params.method:q} --stats-cache {params.cache} --out {output.metrics}"
        " --config-json {params.config:q} > {log} 2>&1"


rule compare_grid:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        poses="results/{dataset}/poses",
        manifest="results/{dataset}/samples/manifest.csv",
    output:
        "results/{dataset}/grid.png",
    params:
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/compare_grid/{dataset}.log",
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf compare-grid --dataset {wildcards.dataset} --root {input.root} --index results/{wildcards.dataset}/data"
        " --poses {input.poses} --manifest {input.manifest} --samples DNAF=results/{wildcards.dataset}/samples/images"
        " --out {output} --config-json {params.config:q} > {log} 2>&1"


rule report:
    input:
        metrics="results/{dataset}/metrics.json",
        baseline="results/{dataset}/baselines/copy-source/metrics.json",
        grid="results/{dataset}/grid.png",
        model="results/{dataset}/train/model",
    output:
        "results/{dataset}/report.html",
    log:
        "results/logs/report/{dataset}.log",
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf report --metrics {input.metrics} {input.baseline} --picture"
        " 'pose | source | ground truth | DNAF={input.grid}'"
        " 'training loss=results/{wildcards.dataset}/train/loss.png' --out {output} > {log} 2>&1"


rule swap_check:
    """The test pairs sampled again with another identity's source: do the colours follow it?
    (synthetic data only: it needs the part maps)."""
    input:
        root=lambda w: dataset_root(w.dataset),
        model="results/{dataset}/train/model",
        images="results/{dataset}/data/images.csv",
        poses="results/{dataset}/poses",
        samples="results/{dataset}/samples/manifest.csv",
    output:
        summary="results/{dataset}/swap/swap.json",
        grid="results/{dataset}/swap/swap.png",
    params:
        config=lambda w: experiment_json(w.dataset),
    log:
        "results/logs/swap_check/{dataset}.log",
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf swap-check --dataset {wildcards.dataset} --root {input.root} --model {input.model}"
        " --index results/{wildcards.dataset}/data --poses {input.poses} --samples results/{wildcards.dataset}/samples/images"
        " --out results/{wildcards.dataset}/swap --config-json {params.config:q} > {log} 2>&1"


rule compare_runs:
    """DNAF against its ablations and the copy-source baseline: a Markdown table and a grid; with
    synthetic data also the appearance checks (colour error against pose only, the swap check)."""
    input:
        root=lambda w: dataset_root(w.dataset),
        poses="results/{dataset}/poses",
        manifest="results/{dataset}/samples/manifest.csv",
        metrics=lambda w: compared_runs(w.dataset),
        swap=lambda w: appearance_inputs(w.dataset),
    output:
        table="results/{dataset}/comparison.md",
        grid="results/{dataset}/comparison.png",
    params:
        config=lambda w: dataset_json(w.dataset),
        samples=lambda w: " ".join(
            f"{name}=results/{w.dataset}/ablations/{name}/samples/images" for name in ABLATIONS
        ),
        appearance=lambda w: appearance_options(w.dataset),
    log:
        "results/logs/compare_runs/{dataset}.log",
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "(dnaf compare --metrics {input.metrics} {params.appearance} --out {output.table}"
        " && dnaf compare-grid --dataset {wildcards.dataset} --root {input.root} --index results/{wildcards.dataset}/data"
        " --poses {input.poses} --manifest {input.manifest} --samples DNAF=results/{wildcards.dataset}/samples/images"
        " {params.samples} copy-source=results/{wildcards.dataset}/baselines/copy-source/samples/images"
        " --out {output.grid} --config-json {params.config:q}) > {log} 2>&1"


rule applications_figure:
    """Pose transfer, try-on and an artwork as reference with the demo model (demo only: it needs
    the synthetic part maps)."""
    input:
        root=dataset_root("demo"),
        images="results/demo/data/images.csv",
        model="results/demo/train/model",
    output:
        "results/demo/applications.png",
    params:
        config=experiment_json("demo"),
    log:
        "results/logs/applications_figure/demo.log",
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf applications-figure --root {input.root} --model {input.model} --index results/demo/data"
        " --out {output} --config-json {params.config:q} > {log} 2>&1"
