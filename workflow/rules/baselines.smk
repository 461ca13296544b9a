# Baselines that need no model, sampled into results/{dataset}/baselines/<name>/samples like a
# run's shards (one shard) and scored like the runs (score.smk).


rule copy_source:
    """Each test pair's source image as its output: what a method scores by changing nothing."""
    input:
        root=lambda w: dataset_root(w.dataset),
        images="results/{dataset}/data/images.csv",
        pairs="results/{dataset}/data/pairs.csv",
    output:
        manifest="results/{dataset}/baselines/copy-source/samples/manifest.csv",
        shard="results/{dataset}/baselines/copy-source/samples/shards/0.csv",
    params:
        index=index_folder,
        samples=lambda w, output: samples_folder(output.manifest),
        config=lambda w: dataset_json(w.dataset),
    log:
        "results/logs/copy_source/{dataset}.log",
    benchmark:
        "results/benchmarks/copy_source/{dataset}.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf copy-source --dataset {wildcards.dataset} --root {input.root} --index {params.index}"
        " --out {params.samples} --manifest {output.manifest} --shard-manifest {output.shard}"
        " --config-json {params.config:q} > {log} 2>&1"
