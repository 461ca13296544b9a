# dnaf workflow: raw dataset -> checks -> index -> skeletons (-> training, sampling, scores in
# later stages). Every rule calls the `dnaf` CLI; the logic lives in the dnaf package.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


# config/config.yaml holds every key, so the schema need not fill defaults (and cannot inside
# keys that are null, such as datasets.deepfashion.synthetic).
validate(config, "workflow/schemas/config.schema.yaml", set_default=False)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


rule demo:
    """The embedded demo: everything that runs on the synthetic dataset."""
    input:
        "results/demo/poses",
        "results/demo/data/preview.png",
    default_target: True
