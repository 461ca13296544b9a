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
        config=lambda w: config_json(("datasets", w.dataset), ("experiments", w.dataset)),
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
