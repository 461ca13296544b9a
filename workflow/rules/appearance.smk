# Appearance on synthetic data, whose part maps say which pixels are skin, hair, upper and lower
# clothes: the swap check (do the colours follow another identity's source?) and the figure of
# the applications (pose transfer, try-on, an artwork as reference).


rule swap_check:
    """The test pairs sampled again with another identity's source: do the colours follow it?
    (synthetic data only: it needs the part maps)."""
    input:
        root=lambda w: dataset_root(w.dataset),
        model="results/{dataset}/train/model",
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        poses="results/{dataset}/poses",
        manifest="results/{dataset}/samples/manifest.csv",
    output:
        summary="results/{dataset}/swap/swap.json",
        grid=report(
            "results/{dataset}/swap/swap.png",
            caption="../report/swap.rst",
            category="Appearance",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "swap check"},
        ),
    params:
        index=index_folder,
        samples=lambda w, input: samples_folder(input.manifest),
        out=lambda w, output: os.path.dirname(output.summary),
        # sampled with the experiment's model and sample parts, scored at its evaluate.size
        config=lambda w: run_json(w.dataset),
    log:
        "results/logs/swap_check/{dataset}.log",
    benchmark:
        "results/benchmarks/swap_check/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf swap-check --dataset {wildcards.dataset} --root {input.root} --model {input.model}"
        " --index {params.index} --poses {input.poses} --samples {params.samples}"
        " --out {params.out} --config-json {params.config:q} > {log} 2>&1"


rule applications_figure:
    """Pose transfer, try-on and an artwork as reference with the demo model (demo only: it needs
    the synthetic part maps)."""
    input:
        root=dataset_root("demo"),
        images="results/demo/data/images.csv",
        pairs="results/demo/data/pairs.csv",
        model="results/demo/train/model",
    output:
        report(
            "results/demo/applications.png",
            caption="../report/applications.rst",
            category="Appearance",
            subcategory="demo",
            labels={"dataset": "demo", "figure": "applications"},
        ),
    params:
        index=index_folder,
        config=experiment_json("demo"),
    log:
        "results/logs/applications_figure/demo.log",
    benchmark:
        "results/benchmarks/applications_figure/demo.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf applications-figure --root {input.root} --model {input.model} --index {params.index}"
        " --out {output} --config-json {params.config:q} > {log} 2>&1"


rule seed_stability:
    """Some test pairs sampled with several seeds: how much does the garments' texture change with
    the noise alone? (synthetic data only: it needs the part maps)."""
    input:
        root=lambda w: dataset_root(w.dataset),
        model="results/{dataset}{variant}/train/model",
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        poses="results/{dataset}/poses",
    output:
        "results/{dataset}{variant}/stability/stability.json",
    wildcard_constraints:
        variant=MODEL_VARIANT,
    params:
        index=index_folder,
        out=lambda w, output: os.path.dirname(output[0]),
        # sampled like the run, scored at its evaluate.size
        config=lambda w: run_json(w.dataset, w.variant),
    log:
        "results/logs/seed_stability/{dataset}{variant}.log",
    benchmark:
        "results/benchmarks/seed_stability/{dataset}{variant}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf seed-stability --dataset {wildcards.dataset} --root {input.root} --model {input.model}"
        " --index {params.index} --poses {input.poses} --out {params.out}"
        " --config-json {params.config:q} > {log} 2>&1"


rule texture_study_table:
    """The texture study's table: each compared model's texture metrics, seed spreads and cost."""
    input:
        metrics=lambda w: study_runs(w.dataset, "metrics.json"),
        stability=lambda w: study_runs(w.dataset, "stability/stability.json"),
        train_logs=lambda w: study_runs(w.dataset, "train/train_log.csv"),
    output:
        "results/{dataset}/texture-study.md",
    log:
        "results/logs/texture_study_table/{dataset}.log",
    benchmark:
        "results/benchmarks/texture_study_table/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf texture-study --metrics {input.metrics} --stability {input.stability}"
        " --train-logs {input.train_logs} --out {output} > {log} 2>&1"
