# dnaf workflow: raw dataset -> checks -> index -> skeletons -> training -> sharded sampling ->
# scores -> metrics.json, grids, report. Every rule calls the `dnaf` CLI; the logic lives in the
# dnaf package.
import sys

from snakemake.utils import min_version, validate

from dnaf.config_files import parse_config, read_layers
from dnaf.core.errors import ConfigError

min_version("9.0")

CONFIG_FILE = "config/config.yaml"


configfile: CONFIG_FILE


# `snakemake --report report.html` after a run: the figures and tables marked report() in the rules
report: "workflow/report/workflow.rst"


# The typed model the CLI uses reads the layers themselves (config.yaml unless replaced, each
# --configfile, then --config), not Snakemake's merge of them, so that an error names its file and
# key, and says only that (no traceback). It fills in the defaults of keys left out
# (experiments.market lists only what differs); the schema is generated from the same model.
try:
    layers = read_layers(
        ([] if workflow.config_settings.replace_workflow_config else [CONFIG_FILE])
        + list(workflow.overwrite_configfiles)
    )
    resolved = parse_config([*layers, ("--config", dict(workflow.config_settings.config))])
except ConfigError as error:
    sys.exit(f"configuration error:\n{error}")
validate(config, "workflow/schemas/config.schema.yaml", set_default=False)
config.update(resolved.model_dump(mode="json"))


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


rule texture_study:
    """The texture study (config/texture-study.yaml; docs/texture-study.md): seven models on printed
    garments, their texture metrics, seed-to-seed stability and cost."""
    input:
        texture_study_inputs,
