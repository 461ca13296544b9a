# Figures and tables of a dataset's results: the comparison grid of the main run, its HTML report,
# and the comparison of the main run with its ablations and the baselines.


rule compare_grid:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        poses="results/{dataset}/poses",
        manifest="results/{dataset}/samples/manifest.csv",
    output:
        report(
            "results/{dataset}/grid.png",
            caption="../report/grid.rst",
            category="Samples",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "DNAF's samples"},
        ),
    params:
        index=index_folder,
        samples=lambda w, input: samples_folder(input.manifest),
        config=lambda w: evaluate_json(w.dataset),
    log:
        "results/logs/compare_grid/{dataset}.log",
    benchmark:
        "results/benchmarks/compare_grid/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf compare-grid --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --poses {input.poses} --manifest {input.manifest} --samples DNAF={params.samples}"
        " --out {output} --config-json {params.config:q} > {log} 2>&1"


rule report:
    """dnaf's own self-contained page (the workflow's report is `snakemake --report`)."""
    input:
        metrics="results/{dataset}/metrics.json",
        baseline="results/{dataset}/baselines/copy-source/metrics.json",
        grid="results/{dataset}/grid.png",
        loss="results/{dataset}/train/loss.png",
    output:
        "results/{dataset}/report.html",
    log:
        "results/logs/report/{dataset}.log",
    benchmark:
        "results/benchmarks/report/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf report --metrics {input.metrics} {input.baseline} --picture"
        " 'pose | source | ground truth | DNAF={input.grid}' 'training loss={input.loss}' --out {output} > {log} 2>&1"


rule compare_runs:
    """DNAF against its ablations and the copy-source baseline: a Markdown table and a grid; with
    synthetic data also the appearance checks (colour error against pose only, the swap check)."""
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        poses="results/{dataset}/poses",
        metrics=lambda w: compared_runs(w.dataset),
        # the first is the grid's rows; each run's images are in samples/images beside its manifest
        manifests=lambda w: compared_manifests(w.dataset),
        swap=lambda w: appearance_inputs(w.dataset),
    output:
        table=report(
            "results/{dataset}/comparison.md",
            caption="../report/comparison_table.rst",
            category="Metrics",
            subcategory="{dataset}",
            labels={"run": "all runs", "file": "comparison.md"},
        ),
        grid=report(
            "results/{dataset}/comparison.png",
            caption="../report/comparison_grid.rst",
            category="Samples",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "every run's samples"},
        ),
    params:
        index=index_folder,
        rows=lambda w, input: input.manifests[0],
        samples=lambda w, input: grid_columns(w.dataset, input.manifests),
        appearance=appearance_options,
        config=lambda w: evaluate_json(w.dataset),
    log:
        "results/logs/compare_runs/{dataset}.log",
    benchmark:
        "results/benchmarks/compare_runs/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "(dnaf compare --metrics {input.metrics} {params.appearance} --out {output.table}"
        " && dnaf compare-grid --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --poses {input.poses} --manifest {params.rows} --samples {params.samples}"
        " --out {output.grid} --config-json {params.config:q}) > {log} 2>&1"
