# Training: one job per dataset and variant (the main run or an ablation). Checkpoints live in
# results/{dataset}{variant}/train/checkpoints, which is not an output, so re-running the workflow
# after an interruption resumes from the newest one.


rule train_model:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        poses="results/{dataset}/poses",
        base=lambda w: base_checkpoints(w.dataset, w.variant),
    output:
        directory("results/{dataset}{variant}/train/model"),
    wildcard_constraints:
        variant=MODEL_VARIANT,
    params:
        config=lambda w: experiment_json(w.dataset, w.variant),
        launch=config["launch"]["train"],
    log:
        "results/logs/train_model/{dataset}{variant}.log",
    benchmark:
        "results/benchmarks/train_model/{dataset}{variant}.tsv"
    threads: lambda w: config["experiments"][w.dataset]["train"]["threads"] or workflow.cores
    priority: lambda w: training_priority(w.variant)
    resources:
        gpu=config["launch"]["train_gpus"],
    conda:
        conda_env(config["launch"]["train_gpus"])
    shell:
        "{params.launch} train --dataset {wildcards.dataset} --root {input.root}"
        " --index results/{wildcards.dataset}/data --poses {input.poses} --out results/{wildcards.dataset}{wildcards.variant}/train"
        " --config-json {params.config:q} > {log} 2>&1"
