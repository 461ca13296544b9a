# Scoring: real-set FID statistics once per dataset, per-shard scores, and metrics.json per run
# (the main run, the ablations, the baselines). FID and LPIPS become null with their reason when
# their weights cannot be had.


rule fid_real_statistics:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        weights=lambda w: metric_weights(w.dataset),
    output:
        "results/{dataset}/fid/real.json",
    params:
        index=index_folder,
        config=lambda w: evaluate_json(w.dataset),
        # beside real.json; named by how it is computed, so presets that compute alike share it
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
        "dnaf fid-stats --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --cache {params.cache} --out {output} --config-json {params.config:q} > {log} 2>&1"


rule score_shard:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        shard="results/{dataset}{variant}/samples/shards/{shard}.csv",
        # the gathered manifest: every image of the run is there (they live in samples/images)
        manifest="results/{dataset}{variant}/samples/manifest.csv",
        weights=lambda w: metric_weights(w.dataset),
    output:
        scores="results/{dataset}{variant}/scores/{shard}.csv",
        record="results/{dataset}{variant}/scores/{shard}.json",
    params:
        index=index_folder,
        samples=lambda w, input: samples_folder(input.manifest),
        config=lambda w: evaluate_json(w.dataset),
    log:
        "results/logs/score_shard/{dataset}{variant}-{shard}.log",
    benchmark:
        "results/benchmarks/score_shard/{dataset}{variant}-{shard}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf score --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --samples {params.samples} --manifest {input.shard}"
        " --out {output.scores} --config-json {params.config:q} > {log} 2>&1"


rule aggregate:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        manifest="results/{dataset}{variant}/samples/manifest.csv",
        scores=lambda w: expand(
            "results/{dataset}{variant}/scores/{shard}.csv",
            dataset=w.dataset,
            variant=w.variant,
            shard=range(num_shards(w.dataset, w.variant)),
        ),
        # the record of the cached real-set statistics (params.cache) that FID reads
        fid="results/{dataset}/fid/real.json",
        weights=lambda w: metric_weights(w.dataset),
    output:
        metrics=report(
            "results/{dataset}{variant}/metrics.json",
            caption="../report/metrics.rst",
            category="Metrics",
            subcategory="{dataset}",
            labels={"run": "{dataset}{variant}", "file": "metrics.json"},
        ),
        scores="results/{dataset}{variant}/metrics_scores.csv",
    params:
        index=index_folder,
        samples=lambda w, input: samples_folder(input.manifest),
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
        "dnaf aggregate --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --samples {params.samples} --manifest {input.manifest}"
        " --scores {input.scores} --method {params.method:q} --stats-cache {params.cache} --out {output.metrics}"
        " --config-json {params.config:q} > {log} 2>&1"
