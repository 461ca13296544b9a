# Data stage: generate (synthetic datasets only), check, index, render skeletons.


rule make_demo_data:
    """A synthetic dataset (one with a synthetic: section: the demo, the rehearsal's) written into
    its root; the wildcard is the root folder as the config names it."""
    output:
        directory("{synthetic_root}"),
    wildcard_constraints:
        synthetic_root="|".join(re.escape(root) for root in SYNTHETIC_ROOTS) or "(?!)",
    params:
        dataset=lambda w: SYNTHETIC_ROOTS[w.synthetic_root],
        config=lambda w: dataset_json(SYNTHETIC_ROOTS[w.synthetic_root]),
    log:
        "results/logs/make_demo_data/{synthetic_root}.log",
    benchmark:
        "results/benchmarks/make_demo_data/{synthetic_root}.tsv"
    threads: workflow.cores
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf make-demo-data --dataset {params.dataset} --out {output} --overwrite --config-json {params.config:q}"
        " --workers {threads} > {log} 2>&1"


rule check_data:
    input:
        lambda w: dataset_root(w.dataset),
    output:
        "results/{dataset}/data/check.json",
    params:
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/check_data/{dataset}.log",
    benchmark:
        "results/benchmarks/check_data/{dataset}.tsv"
    threads: workflow.cores
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf check-data --dataset {wildcards.dataset} --root {input} --report {output}"
        " --config-json {params.config:q} --workers {threads} > {log} 2>&1"


rule index_data:
    input:
        root=lambda w: dataset_root(w.dataset),
        check="results/{dataset}/data/check.json",
    output:
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
    params:
        index=lambda w, output: os.path.dirname(output.images),
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/index_data/{dataset}.log",
    benchmark:
        "results/benchmarks/index_data/{dataset}.tsv"
    threads: workflow.cores
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf index-data --dataset {wildcards.dataset} --root {input.root} --out {params.index}"
        " --config-json {params.config:q} --workers {threads} > {log} 2>&1"


rule render_poses:
    input:
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
    output:
        directory("results/{dataset}/poses"),
    params:
        index=index_folder,
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/render_poses/{dataset}.log",
    benchmark:
        "results/benchmarks/render_poses/{dataset}.tsv"
    threads: workflow.cores
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf render-poses --dataset {wildcards.dataset} --index {params.index} --out {output}"
        " --config-json {params.config:q} --workers {threads} > {log} 2>&1"


rule preview_data:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
    output:
        report(
            "results/{dataset}/data/preview.png",
            caption="../report/preview.rst",
            category="Data",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "images and skeletons"},
        ),
    params:
        index=index_folder,
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/preview_data/{dataset}.log",
    benchmark:
        "results/benchmarks/preview_data/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf preview-data --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --out {output} --config-json {params.config:q} > {log} 2>&1"
