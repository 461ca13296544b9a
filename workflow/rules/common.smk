import json
import os
import re
from pathlib import PurePosixPath

from snakemake.exceptions import WorkflowError

from dnaf.config import MAIN_RUN
from dnaf.core.settings import deep_merge
from dnaf.metrics.protocols import real_stats_cache

DATASETS = tuple(config["datasets"])
"""deepfashion, market, demo and any dataset a config layer defines."""


# Runs of one dataset: the main run (variant ""), ablations (config ablations.variants: the same
# experiment with some keys replaced, each trained and sampled in results/{dataset}/ablations/<name>)
# and baselines that need no model (results/{dataset}/baselines/<name>, scored like the runs).
ABLATIONS = tuple(config["ablations"]["variants"])
TRAINING_ORDER = tuple(config["ablations"]["training_order"])
BASELINES = ("copy-source",)
MODEL_VARIANT = f"(/ablations/({'|'.join(ABLATIONS)}))?"
SCORED_VARIANT = f"(/ablations/({'|'.join(ABLATIONS)})|/baselines/({'|'.join(BASELINES)}))?"


def variant_kind(variant):
    """"main", "ablations" or "baselines", and the name ("" for the main run)."""
    if not variant:
        return "main", ""
    kind, name = PurePosixPath(variant).parts[-2:]
    return kind, name


def training_priority(variant):
    """Snakemake priority of a training job: the longest first (ablations.training_order)."""
    name = variant_kind(variant)[1] or MAIN_RUN
    return len(TRAINING_ORDER) - TRAINING_ORDER.index(name)


def run_dir(dataset, kind, name):
    """Where a run's outputs live: results/{dataset} for the main run."""
    return f"results/{dataset}" if kind == "main" else f"results/{dataset}/{kind}/{name}"


wildcard_constraints:
    dataset="|".join(DATASETS),
    shard=r"\d+",
    variant=SCORED_VARIANT,


def dataset_root(dataset):
    return config["datasets"][dataset]["root"]


# Folders a command takes, derived from the files a rule declares (never retyped in a shell string).


def index_folder(wildcards, input):
    """The index folder (images.csv, pairs.csv) of a rule's ``images`` input, for ``--index``."""
    return os.path.dirname(input.images)


def samples_folder(entry):
    """A run's folder of generated images, samples/images, from an entry of samples/ (manifest.csv,
    shards): not an output, the shards share it and an interrupted shard resumes there."""
    return os.path.join(os.path.dirname(entry), "images")


SYNTHETIC_ROOTS = {dataset_root(d): d for d in DATASETS if config["datasets"][d]["synthetic"] is not None}
"""Root folder -> name of each generated dataset (make_demo_data writes the root)."""


def base_checkpoints(dataset, variant=""):
    """The SD1.5 and Swin folders a pretrained-base run loads (nothing for a tiny base; no Swin for
    an ablation without injectors)."""
    model = json.loads(experiment_json(dataset, variant))["experiments"][dataset]["model"]
    if model["base"] != "pretrained":
        return []
    return [model["stable_diffusion"]] + ([model["swin"]] if model["injectors"] else [])


def metric_weights(dataset):
    """The local weight files scoring reads (Inception, AlexNet), where the config names them."""
    evaluate = config["experiments"][dataset]["evaluate"]
    return [evaluate[key] for key in ("inception_weights", "lpips_weights") if evaluate[key]]


def config_json(*paths):
    """The parts of the config under each key path (a tuple of keys) as one partial config
    document in JSON, for a rule's ``params``: the rule re-runs when exactly those parts change,
    and the CLI validates them."""
    document = {}
    for path in paths:
        value = config
        for key in path:
            value = value[key]
        node = document
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return json.dumps(document, sort_keys=True)


def dataset_json(dataset):
    return config_json(("datasets", dataset))


def run_json(dataset, variant=""):
    """The dataset's config and a run's experiment (an ablation's keys replaced), its evaluate part
    included: what a check that samples and scores one run reads. Without the experiment's list of
    ablations: which runs sit beside it changes no run (and names variants this part lacks)."""
    document = json.loads(config_json(("datasets", dataset), ("experiments", dataset)))
    del document["experiments"][dataset]["ablations"]
    kind, name = variant_kind(variant)
    if kind == "ablations":
        overrides = config["ablations"]["variants"][name]
        document["experiments"][dataset] = deep_merge(document["experiments"][dataset], overrides)
    return json.dumps(document, sort_keys=True)


def experiment_json(dataset, variant=""):
    """:func:`run_json` without the evaluate part: scoring settings never retrain or resample a model."""
    document = json.loads(run_json(dataset, variant))
    del document["experiments"][dataset]["evaluate"]
    return json.dumps(document, sort_keys=True)


def study_runs(dataset, file):
    """``file`` of each model a comparison shows (the main run and the dataset's ablations)."""
    return [f"{run_dir(dataset, kind, name)}/{file}" for kind, name in compared_variants(dataset) if kind != "baselines"]


def num_shards(dataset, variant=""):
    return 1 if variant_kind(variant)[0] == "baselines" else config["experiments"][dataset]["sample"]["shards"]


def method_name(variant):
    kind, name = variant_kind(variant)
    return {"main": "DNAF", "ablations": f"DNAF, ablation {name}", "baselines": f"{name.replace('-', ' ')} (baseline)"}[kind]


def compared_variants(dataset):
    """(kind, name) of the runs a comparison shows: the main run, the dataset's ablations
    (experiments.<dataset>.ablations), every baseline."""
    ablations = config["experiments"][dataset]["ablations"]
    return [("main", ""), *(("ablations", n) for n in ablations), *(("baselines", n) for n in BASELINES)]


def compared_runs(dataset):
    """metrics.json of the main run, every ablation and every baseline."""
    return [f"{run_dir(dataset, *v)}/metrics.json" for v in compared_variants(dataset)]


def compared_manifests(dataset):
    """samples/manifest.csv of the same runs, in the same order (their images are the grid's columns)."""
    return [f"{run_dir(dataset, *v)}/samples/manifest.csv" for v in compared_variants(dataset)]


def grid_columns(dataset, manifests):
    """`dnaf compare-grid --samples` of the compared runs: LABEL=folder of generated images."""
    labels = ["DNAF" if kind == "main" else name for kind, name in compared_variants(dataset)]
    return " ".join(f"{label}={samples_folder(manifest)}" for label, manifest in zip(labels, manifests, strict=True))


def evaluate_json(dataset):
    """The dataset's config and its experiment's evaluate part: what scoring reads, and the
    figures drawn at the scoring size (evaluate.size)."""
    return config_json(("datasets", dataset), ("experiments", dataset, "evaluate"))


def stats_cache(dataset):
    return str(real_stats_cache(dataset, config["experiments"][dataset]["evaluate"]["protocol"]))


def is_synthetic(dataset):
    return config["datasets"][dataset]["synthetic"] is not None


def appearance_inputs(dataset):
    """The swap check, for datasets with part maps (the synthetic demo)."""
    return [f"results/{dataset}/swap/swap.json"] if is_synthetic(dataset) else []


POSE_ONLY = "pose-only"
"""The ablation whose colour error the appearance checks compare against, when the config has it."""


def appearance_options(wildcards, input):
    """`dnaf compare` options of the appearance checks (synthetic data only), from the rule's inputs."""
    if not input.swap:
        return ""
    pose_only = f"{run_dir(wildcards.dataset, 'ablations', POSE_ONLY)}/metrics.json"
    options = f"--pose-only {pose_only} " if pose_only in input.metrics else ""
    return options + f"--swap {input.swap}"


def train_job_resources():
    """The training job's cluster resources, from the launch config: its GPUs, and for a training
    that starts its processes with srun (launch.train_tasks_per_node) its nodes and tasks, with
    `mpi`, which tells Snakemake's SLURM executor to run the command as it is instead of inside
    an srun of its own (docs/cluster.md)."""
    launch = config["launch"]
    resources = {"gpu": launch["train_gpus"]}
    per_node = launch["train_tasks_per_node"]
    if per_node:
        resources |= {"mpi": "srun", "nodes": launch["train_nodes"]}
        # the executor passes --ntasks-per-node only above 1, and reads a GPU job's `tasks` as
        # tasks per GPU unless tasks_per_gpu is given (0: none)
        if per_node > 1:
            resources["tasks_per_node"] = per_node
        else:
            resources |= {"tasks": launch["train_nodes"], "tasks_per_gpu": 0}
    return resources


def conda_env(gpus):
    """A GPU rule's conda environment (relative to workflow/rules): envs/dnaf-cuda.yaml, with
    xformers, when the config gives its jobs GPUs, else the environment of every other rule."""
    return "../../envs/dnaf-cuda.yaml" if gpus else "../../envs/dnaf.yaml"


STUDY = "texture"
"""The texture study's dataset, defined by config/texture-study.yaml."""


def texture_study_inputs(wildcards):
    if STUDY not in config["datasets"]:
        raise WorkflowError("the texture_study target needs its config layer: snakemake --cores all "
                            "--configfile config/texture-study.yaml -- texture_study (or make texture-study)")
    return [f"results/{STUDY}/texture-study.md", f"results/{STUDY}/comparison.md", f"results/{STUDY}/swap/swap.json"]
