"""Typed configuration: one object, unknown keys rejected, its defaults in code (loaded from YAML
layers over them by dnaf.config_files).

The defaults below are the documented ones in ``config/config.yaml`` (a test keeps the two equal).
``workflow/schemas/config.schema.yaml`` is generated from these models (``dnaf config-schema``),
so Snakemake validates against the same definition.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import ConfigDict, Field, PositiveInt, ValidationError, model_validator

from dnaf.core.errors import ConfigError
from dnaf.core.settings import StrictModel, deep_merge, validation_problems
from dnaf.data.config import DatasetConfig, PublishedCounts, SyntheticConfig
from dnaf.metrics.config import EvaluateConfig
from dnaf.models.config import ModelConfig, TinyConfig
from dnaf.pose.config import PoseExtractionConfig
from dnaf.sampling.config import SampleConfig
from dnaf.training.config import TrainConfig, TrainSetup

DATASET_NAME = re.compile(r"[a-z][a-z0-9_-]*")
"""A dataset name: it becomes a folder name (results/<name>) and a Snakemake wildcard value."""


class NamedEntries(StrictModel):
    """The entries named in code (fields) and those a config layer adds (typed extras), looked up
    by name: datasets and experiments."""

    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)
    section: ClassVar[str]
    """The config key holding the entries, for messages."""

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        if isinstance(data, dict):  # before the entries, so that a bad name is the first thing said
            _check_names([name for name in data if name not in cls.model_fields], cls.__name__.lower())
        return data

    def names(self) -> list[str]:
        return [*type(self).model_fields, *self.model_extra]

    def get(self, name: str):
        if name in type(self).model_fields:
            return getattr(self, name)
        if name in self.model_extra:  # not getattr: an extra named like a method ("copy") must still resolve
            return self.model_extra[name]
        raise ConfigError(
            f"unknown {self.section[:-1]} {name!r}; expected one of {sorted(self.names())} (or define "
            f"{self.section}.{name} in a config layer)"
        )


def _check_names(names, where: str) -> None:
    bad = sorted(name for name in names if not DATASET_NAME.fullmatch(name))
    if bad:
        raise ValueError(
            f"{where} names {bad} are not lower-case letters, digits, '-' and '_' (starting with a letter)"
        )


class Datasets(NamedEntries):
    """The three datasets known to the code, and any others a config layer defines."""

    __pydantic_extra__: dict[str, DatasetConfig] = Field(init=False)
    section: ClassVar[str] = "datasets"

    @model_validator(mode="after")
    def _generated_roots_differ(self) -> Datasets:
        roots: dict[Path, str] = {}
        for name in self.names():
            dataset = self.get(name)
            if dataset.synthetic is not None and roots.setdefault(dataset.root, name) != name:
                raise ValueError(f"datasets {roots[dataset.root]} and {name} are both generated into {dataset.root}")
        return self

    deepfashion: DatasetConfig = DatasetConfig(
        format="deepfashion-csv",
        root=Path("data/deepfashion"),
        image_size=(256, 176),
        skeleton_size=(256, 176),
        disjoint_identities=False,
        published_counts=PublishedCounts(train_images=48674, test_images=4038, train_pairs=101966, test_pairs=8570),
    )
    market: DatasetConfig = DatasetConfig(
        format="market",
        root=Path("data/market"),
        image_size=(128, 64),
        skeleton_size=(128, 64),
        disjoint_identities=True,
        published_counts=PublishedCounts(train_images=12936, test_images=19732, train_pairs=263632, test_pairs=12000),
    )
    demo: DatasetConfig = DatasetConfig(
        format="deepfashion-csv",
        root=Path("data/demo"),
        image_size=(128, 88),
        skeleton_size=(256, 176),
        disjoint_identities=True,
        synthetic=SyntheticConfig(),
    )


STANDARD_ABLATIONS = ("pose-only", "no-noise-aware", "no-injectors")


class Experiment(StrictModel):
    """How one dataset is trained and sampled: the model, its training, its sampling."""

    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    sample: SampleConfig = SampleConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    ablations: tuple[str, ...] = STANDARD_ABLATIONS
    """The variants of ``ablations.variants`` trained, sampled and compared beside the main run."""


DEMO_EXPERIMENT = Experiment(
    model=ModelConfig(
        base="tiny",
        space="pixel",
        pixel_patch=4,
        adapter_res_blocks=1,
        train_unet=True,
        train_swin=True,
        tiny=TinyConfig(
            unet_channels=(32, 64, 64),
            attention_levels=(True, True, False),
            attention_heads=1,
            norm_num_groups=8,
            swin_embed_dim=32,
            swin_window=2,
            swin_absolute_positions=True,
        ),
    ),
    train=TrainConfig(
        resolution=(64, 44),
        batch_size=8,
        max_steps=2000,
        learning_rate=2e-3,
        warmup_steps=50,
        ema_decay=0.99,
        mixed_precision="no",
        prediction_type="sample",
        num_workers=0,
        threads=1,
        log_every=50,
        checkpoint_every=500,
        keep_checkpoints=2,
        validate_every=1000,
    ),
    sample=SampleConfig(steps=25, guidance="appearance", appearance_scale=1.5, batch_size=50, shards=2),
)


class Experiments(NamedEntries):
    """One experiment per dataset. A config layer that adds a dataset adds its experiment too; the
    keys the experiment leaves out take the paper recipe's defaults (``Experiment()``)."""

    __pydantic_extra__: dict[str, Experiment] = Field(init=False)
    section: ClassVar[str] = "experiments"

    deepfashion: Experiment = Experiment(train=TrainConfig(resolution=(256, 176)))
    market: Experiment = Experiment(train=TrainConfig(resolution=(128, 64)))
    demo: Experiment = DEMO_EXPERIMENT


class LaunchConfig(StrictModel):
    """How the workflow starts the GPU stages (the command prefix that runs `dnaf <verb>`)."""

    train: str = "dnaf"
    """e.g. `accelerate launch --multi_gpu --num_processes 8 -m dnaf` for 8 GPUs."""
    sample: str = "dnaf"
    """One sampling job per shard; prefix it with accelerate launch to give a shard several GPUs."""
    train_gpus: int = Field(0, ge=0)
    """GPUs the training job asks the scheduler for in all (Snakemake resource `gpu`)."""
    sample_gpus: int = Field(0, ge=0)
    """GPUs each sampling shard asks for."""
    train_nodes: PositiveInt = 1
    """Nodes the training job spans on a cluster (Snakemake resource `nodes`)."""
    train_tasks_per_node: int = Field(0, ge=0)
    """Training processes srun starts on each node, `train` being a command that starts them with
    srun (config/launch-multinode.yaml); the SLURM executor then leaves the command unwrapped
    (resource `mpi`). 0 = `train` starts its processes itself, in one node."""

    @model_validator(mode="after")
    def _check(self) -> LaunchConfig:
        if self.train_nodes > 1 and not self.train_tasks_per_node:
            raise ValueError("train_nodes > 1 needs train_tasks_per_node: a `train` command that starts them with srun")
        if self.train_tasks_per_node and self.train_nodes * self.train_tasks_per_node < 2:
            raise ValueError(
                "SLURM's executor launches a single training process itself: set train_tasks_per_node to 0"
            )
        return self


class RehearsalConfig(StrictModel):
    """The rehearsal of the paper path (config/rehearsal.yaml; the workflow target `rehearsal`)."""

    dataset: str
    """The experiment rehearsed: its data is generated (synthetic:), its base models and metric
    weights are written with seeded random values (`dnaf make-rehearsal-models`)."""
    other_layout: str | None = None
    """A dataset of the same pictures in the other DeepFashion layout: checked, indexed, rendered."""
    resume_step: PositiveInt
    """The checkpoint a second training starts from; it must end with the same weights."""


MAIN_RUN = "main"
"""The name of the main run (no key replaced) in ``ablations.training_order``."""


class AblationsConfig(StrictModel):
    """Ablations: the experiment with some keys replaced, each trained, sampled and scored beside
    the main run (results/<dataset>/ablations/<name>). The workflow, dvc.yaml, the benchmarks and
    the tests read them from here."""

    variants: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {
            "pose-only": {"model": {"noise_aware": False, "injectors": False}},
            "no-noise-aware": {"model": {"noise_aware": False}},
            "no-injectors": {"model": {"injectors": False}},
        }
    )
    """Name -> the experiment keys it replaces (a partial experiment: model:, train:, sample:)."""
    training_order: tuple[str, ...] = (MAIN_RUN, "no-injectors", "no-noise-aware", "pose-only")
    """Every run ('main' and each variant) once, from the longest training to the shortest: started
    in this order, parallel lanes finish close together."""

    @model_validator(mode="after")
    def _names(self) -> AblationsConfig:
        _check_names(self.variants, "ablation")
        if MAIN_RUN in self.variants:
            raise ValueError(f"{MAIN_RUN!r} names the main run; an ablation needs another name")
        runs = [MAIN_RUN, *self.variants]
        if sorted(self.training_order) != sorted(runs):
            raise ValueError(f"training_order {list(self.training_order)} must list each of {runs} once")
        return self


def _ablated(experiment: Experiment, overrides: dict[str, Any]) -> Experiment:
    """``experiment`` with an ablation's keys replaced, validated."""
    return Experiment.model_validate(deep_merge(experiment.model_dump(mode="json"), overrides))


class Config(StrictModel):
    """The whole configuration of a dnaf run."""

    workers: int = Field(0, ge=0)
    """Worker processes for parallel CPU stages (rendering, checks); 0 = all cores."""
    datasets: Datasets = Datasets()
    experiments: Experiments = Experiments()
    launch: LaunchConfig = LaunchConfig()
    ablations: AblationsConfig = AblationsConfig()
    pose_extraction: PoseExtractionConfig = PoseExtractionConfig()
    rehearsal: RehearsalConfig | None = None
    """Set by config/rehearsal.yaml only."""

    def experiment(self, dataset: str, ablation: str | None = None) -> Experiment:
        """The experiment of ``dataset``, with the keys of ``ablation`` replaced when given."""
        experiment = self.experiments.get(dataset)
        if ablation is None:
            return experiment
        if ablation not in self.ablations.variants:
            raise ConfigError(f"unknown ablation {ablation!r}; expected one of {sorted(self.ablations.variants)}")
        return _ablated(experiment, self.ablations.variants[ablation])

    @model_validator(mode="after")
    def _ablations_named(self) -> Config:
        problems = []
        for dataset in self.experiments.names():
            unknown = sorted(set(self.experiments.get(dataset).ablations) - set(self.ablations.variants))
            if unknown:
                problems.append(f"experiments.{dataset}.ablations names {unknown}, which ablations.variants does "
                                f"not define (it defines {sorted(self.ablations.variants)})")  # fmt: skip
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _ablations_fit(self) -> Config:
        """Every ablation gives a valid experiment for every dataset (unknown keys named)."""
        problems = []
        for name, overrides in self.ablations.variants.items():
            for dataset in self.experiments.names():
                try:
                    _ablated(self.experiments.get(dataset), overrides)
                except ValidationError as error:
                    problems += [f"ablations.variants.{name}: {problem}" for problem in validation_problems(error)]
                    break  # the same keys fail for every dataset
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _rehearsal(self) -> Config:
        """The rehearsal's names exist, and its experiment can be rehearsed: generated data, a
        pretrained base and metric weight files to write, a resume step whose checkpoint is kept."""
        if self.rehearsal is None:
            return self
        for name in (self.rehearsal.dataset, self.rehearsal.other_layout):
            if name is not None and name not in self.datasets.names():
                raise ValueError(f"rehearsal names dataset {name!r}, which datasets: does not define")
        name = self.rehearsal.dataset
        if name not in self.experiments.names():
            raise ValueError(f"rehearsal names dataset {name!r}, which experiments: does not define")
        experiment, problems = self.experiments.get(name), []
        if self.datasets.get(name).synthetic is None:
            problems.append(f"datasets.{name} needs a synthetic: section (the rehearsal generates its data)")
        if experiment.model.base != "pretrained":
            problems.append(f"experiments.{name}.model.base must be pretrained (the path rehearsed)")
        if experiment.evaluate.inception_weights is None or experiment.evaluate.lpips_weights is None:
            problems.append(f"experiments.{name}.evaluate needs inception_weights and lpips_weights (files to write)")
        train, step = experiment.train, self.rehearsal.resume_step
        written = sorted(
            set(range(train.checkpoint_every, train.max_steps + 1, train.checkpoint_every)) | {train.max_steps}
        )
        if step >= train.max_steps or step not in written[-train.keep_checkpoints :]:
            problems.append(f"rehearsal.resume_step {step} is not a kept checkpoint before the last step (kept: "
                            f"{written[-train.keep_checkpoints :]})")  # fmt: skip
        if problems:
            raise ValueError("; ".join(problems))
        return self


def dump_config(config: Config) -> str:
    """The resolved config as YAML, to be saved beside every result it produced."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def config_json_schema() -> dict[str, Any]:
    """JSON schema of :class:`Config` for ``snakemake.utils.validate``."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def train_setup(config: Config, dataset: str) -> TrainSetup:
    """What training reads of ``config`` for ``dataset``: its model, training and data sections,
    and the whole resolved config to save beside the run."""
    experiment = config.experiments.get(dataset)
    return TrainSetup(experiment.model, experiment.train, config.datasets.get(dataset), dump_config(config))
