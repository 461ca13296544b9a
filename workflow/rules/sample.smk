# Sampling: the test pairs scattered over `experiments.<dataset>.sample.shards` jobs, gathered
# into one manifest that fails when any pair lacks its image. Images go to one shared folder
# beside the manifests (not an output, so an interrupted shard resumes); the manifests are the
# outputs.


rule sample_shard:
    input:
        root=lambda w: dataset_root(w.dataset),
        model="results/{dataset}{variant}/train/model",
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        poses="results/{dataset}/poses",
        base=lambda w: base_checkpoints(w.dataset, w.variant),
    output:
        "results/{dataset}{variant}/samples/shards/{shard}.csv",
    wildcard_constraints:
        variant=MODEL_VARIANT,
    params:
        index=index_folder,
        samples=lambda w, output: samples_folder(os.path.dirname(output[0])),
        config=lambda w: experiment_json(w.dataset, w.variant),
        shards=lambda w: num_shards(w.dataset),
        launch=config["launch"]["sample"],
    log:
        "results/logs/sample_shard/{dataset}{variant}-{shard}.log",
    benchmark:
        "results/benchmarks/sample_shard/{dataset}{variant}-{shard}.tsv"
    resources:
        gpu=config["launch"]["sample_gpus"],
    conda:
        conda_env(config["launch"]["sample_gpus"])
    shell:
        "{params.launch} sample --dataset {wildcards.dataset} --root {input.root} --model {input.model}"
        " --index {params.index} --poses {input.poses} --out {params.samples}"
        " --shard {wildcards.shard} --num-shards {params.shards}"
        " --manifest {output} --replace-stale --config-json {params.config:q} > {log} 2>&1"


rule gather_samples:
    input:
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
        shards=lambda w: expand(
            "results/{dataset}{variant}/samples/shards/{shard}.csv",
            dataset=w.dataset,
            variant=w.variant,
            shard=range(num_shards(w.dataset)),
        ),
    output:
        "results/{dataset}{variant}/samples/manifest.csv",
    wildcard_constraints:
        variant=MODEL_VARIANT,
    params:
        index=index_folder,
        samples=lambda w, output: samples_folder(output[0]),
    log:
        "results/logs/gather_samples/{dataset}{variant}.log",
    benchmark:
        "results/benchmarks/gather_samples/{dataset}{variant}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf gather-samples --index {params.index} --samples {params.samples}"
        " --manifests {input.shards} --out {output} > {log} 2>&1"
