# Training: one job per dataset and variant (the main run or an ablation). Checkpoints live in
# results/{dataset}{variant}/train/checkpoints, which is not an output, so re-running the workflow
# after an interruption resumes from the newest one. The loss curve and its table are outputs:
# training writes them again from its log (train_log.jsonl, not an output) at every checkpoint.


rule train_model:
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        poses="results/{dataset}/poses",
        base=lambda w: base_checkpoints(w.dataset, w.variant),
    output:
        model=directory("results/{dataset}{variant}/train/model"),
        loss=report(
            "results/{dataset}{variant}/train/loss.png",
            caption="../report/loss.rst",
            category="Training",
            subcategory="{dataset}",
            labels={"run": "{dataset}{variant}", "figure": "training loss"},
        ),
        log_table="results/{dataset}{variant}/train/train_log.csv",
    wildcard_constraints:
        variant=MODEL_VARIANT,
    params:
        index=index_folder,
        run=lambda w, output: os.path.dirname(output.model),
        config=lambda w: experiment_json(w.dataset, w.variant),
        launch=config["launch"]["train"],
    log:
        "results/logs/train_model/{dataset}{variant}.log",
    benchmark:
        "results/benchmarks/train_model/{dataset}{variant}.tsv"
    threads: lambda w: config["experiments"][w.dataset]["train"]["threads"] or workflow.cores
    priority: lambda w: training_priority(w.variant)
    resources:
        **train_job_resources(),
    conda:
        conda_env(config["launch"]["train_gpus"])
    shell:
        "{params.launch} train --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --poses {input.poses} --out {params.run} --config-json {params.config:q} > {log} 2>&1"
