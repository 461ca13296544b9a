# The resolved configuration the workflow runs with: every default filled in and every
# --configfile layer applied. For people, and for DVC, whose stages take their params from it
# (dvc.yaml).


rule resolve_config:
    output:
        "results/config.resolved.yaml",
    params:
        config=json.dumps(config, sort_keys=True),
    log:
        "results/logs/resolve_config/all.log",
    benchmark:
        "results/benchmarks/resolve_config/all.tsv"
    conda:
        "../../envs/dnaf.yaml"
    shell:
        "dnaf show-config --config-json {params.config:q} > {output} 2> {log}"
