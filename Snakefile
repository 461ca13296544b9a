# dnaf workflow: raw dataset -> checks -> index -> skeletons -> training -> sharded sampling ->
# scores -> metrics.json, grids, report. Every rule calls the `dnaf` CLI; the logic lives in the
# dnaf package.
from snakemake.utils import min_version, validate

from dnaf.config import parse_config

min_version("9.0")


configfile: "config/config.yaml"


# `snakemake --report report.html` after a run: the figures and tables marked report() in the rules
report: "workflow/report/workflow.rst"


# The schema rejects unknown keys and bad values; the defaults of keys left out (experiments.market
# lists only what differs) come from the same typed model the CLI uses.
validate(config, "workflow/schemas/config.schema.yaml", set_default=False)
config.update(parse_config([("config", config)]).model_dump(mode="json"))


include: "workflow/rules/common.smk"
include: "workflow/rules/config.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/appearance.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/rehearsal.smk"


rule demo:
    """The embedded demo: everything that runs on the synthetic dataset, with the ablation."""
    input:
        "results/demo/data/preview.png",
        "results/demo/metrics.json",
        "results/demo/report.html",
        "results/demo/comparison.md",
        "results/demo/applications.png",
    default_target: True
