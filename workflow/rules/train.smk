# Training: one job per dataset. Checkpoints live in results/{dataset}/train/checkpoints, which is
# not an output, so re-running the workflow after an interruption resumes from the newest one.


rule train_model:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        poses="results/{dataset}/poses",
    output:
        directory("results/{dataset}/train/model"),
    params:
        config=lambda w: experiment_json(w.dataset),
        launch=config["launch"]["train"],
    log:
        "results/logs/train_model/{dataset}.log",
    benchmark:
        "results/benchmarks/train_model/{dataset}.tsv"
    threads: workflow.cores
    resources:
        gpu=config["launch"]["train_gpus"],
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "{params.launch} train --dataset {wildcards.dataset} --root {input.root}"
        " --index results/{wildcards.dataset}/data --poses {input.poses} --out results/{wildcards.dataset}/train"
        " --config-json {params.config:q} > {log} 2>&1"
