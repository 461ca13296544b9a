# The rehearsal of the paper path (config/rehearsal.yaml): seeded random base models and metric
# weights in the real formats, a resume check, and the target that runs everything. Defined only
# when the rehearsal's config layer is given.

if config["rehearsal"] is not None:
    REHEARSED = config["rehearsal"]["dataset"]
    OTHER_LAYOUT = config["rehearsal"]["other_layout"]
    RESUME_STEP = config["rehearsal"]["resume_step"]

    rule make_rehearsal_models:
        output:
            stable_diffusion=directory(config["experiments"][REHEARSED]["model"]["stable_diffusion"]),
            swin=directory(config["experiments"][REHEARSED]["model"]["swin"]),
            inception=config["experiments"][REHEARSED]["evaluate"]["inception_weights"],
            alexnet=config["experiments"][REHEARSED]["evaluate"]["lpips_weights"],
        params:
            dataset=REHEARSED,
            # only what the files depend on: the model (widths, paths) and the weight paths
            config=config_json(
                ("datasets", REHEARSED), ("experiments", REHEARSED, "model"), ("experiments", REHEARSED, "evaluate")
            ),
        log:
            f"results/logs/make_rehearsal_models/{REHEARSED}.log",
        benchmark:
            f"results/benchmarks/make_rehearsal_models/{REHEARSED}.tsv"
        conda:
            "../../envs/dnaf.yaml"
        shell:
            "dnaf make-rehearsal-models --dataset {params.dataset} --config-json {params.config:q} > {log} 2>&1"

    rule rehearse_resume:
        """A second training that starts from the main training's checkpoint of resume_step (in
        its own folder): it must end with the same weights, bit for bit."""
        input:
            root=dataset_root(REHEARSED),
            images=f"results/{REHEARSED}/data/images.csv",
            pairs=f"results/{REHEARSED}/data/pairs.csv",
            poses=f"results/{REHEARSED}/poses",
            base=base_checkpoints(REHEARSED),
            model=f"results/{REHEARSED}/train/model",
        output:
            check=f"results/{REHEARSED}/rehearsal/resume.json",
            # an output, so that Snakemake clears it before a re-run (its own checkpoints would
            # otherwise be resumed instead of the main training's)
            run=directory(f"results/{REHEARSED}/rehearsal/resumed"),
        params:
            dataset=REHEARSED,
            index=index_folder,
            config=experiment_json(REHEARSED),
            launch=config["launch"]["train"],
            # written by the main training beside its model (checkpoints are not an output: the
            # model stands for them)
            checkpoint=lambda w, input: os.path.join(
                os.path.dirname(input.model), "checkpoints", f"step-{RESUME_STEP:07d}"
            ),
        log:
            f"results/logs/rehearse_resume/{REHEARSED}.log",
        benchmark:
            f"results/benchmarks/rehearse_resume/{REHEARSED}.tsv"
        threads: config["experiments"][REHEARSED]["train"]["threads"] or workflow.cores
        resources:
            **train_job_resources(),
        conda:
            "../../envs/dnaf.yaml"
        shell:
            "({params.launch} train --dataset {params.dataset} --root {input.root} --index {params.index}"
            " --poses {input.poses} --out {output.run} --resume-from {params.checkpoint} --config-json {params.config:q}"
            " && dnaf compare-models {input.model} {output.run}/model --out {output.check}) > {log} 2>&1"

    rule rehearsal:
        """The paper path end to end on the placeholder data: metrics.json (marked not meaningful),
        the report, the resume check, and the other layout checked, indexed and rendered."""
        input:
            f"results/{REHEARSED}/data/preview.png",
            f"results/{REHEARSED}/metrics.json",
            f"results/{REHEARSED}/report.html",
            f"results/{REHEARSED}/rehearsal/resume.json",
            [f"results/{OTHER_LAYOUT}/poses", f"results/{OTHER_LAYOUT}/data/preview.png"] if OTHER_LAYOUT else [],
