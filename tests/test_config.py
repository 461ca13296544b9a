import json
from pathlib import Path

import pytest
import yaml

from dnaf.config import Config, ConfigError, Experiment, config_json_schema
from dnaf.config_files import load_config

from .conftest import REPO


def test_documented_config_equals_code_defaults():
    assert load_config([REPO / "config" / "config.yaml"]) == Config()


def test_unknown_key_is_rejected_with_its_name(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("datasets:\n  demo:\n    rooot: x\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: datasets\.demo\.rooot: unknown key"):
        load_config([path])


def test_bad_value_names_file_and_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("workers: -3\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: workers: .*greater than or equal to 0"):
        load_config([path])


def test_layers_merge_in_order(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("datasets:\n  demo:\n    root: one\n    synthetic: {seed: 5}\n")
    second.write_text("datasets:\n  demo:\n    root: two\n")
    config = load_config([first, second], '{"workers": 1}')
    assert config.datasets.demo.root == Path("two")
    assert config.datasets.demo.synthetic.seed == 5
    assert config.datasets.demo.synthetic.train_identities == 300
    assert config.workers == 1


def test_nted_layout_rejects_a_keypoint_frame():
    with pytest.raises(ConfigError, match="keypoint_frame must be null for the NTED layout"):
        load_config(
            [],
            '{"datasets": {"deepfashion": {"format": "deepfashion-nted", "keypoint_frame": [256, 176]}}}',
        )


def test_schema_file_is_generated_from_the_models():
    committed = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert committed == config_json_schema(), "run: dnaf config-schema --out workflow/schemas/config.schema.yaml"


def test_schema_rejects_unknown_keys_like_the_models():
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    validate(Config().model_dump(mode="json"), str(schema), set_default=False)
    bad = Config().model_dump(mode="json")
    bad["datasets"]["demo"]["rooot"] = "x"
    with pytest.raises(WorkflowError, match="rooot"):
        validate(bad, str(schema), set_default=False)


MINE = {"format": "deepfashion-csv", "root": "data/mine", "image_size": [256, 176], "skeleton_size": [256, 176],
        "disjoint_identities": True}  # fmt: skip


def _layer(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_dataset_a_layer_adds_comes_with_its_experiment(tmp_path):
    mine = _layer(
        tmp_path / "mine.yaml", {"datasets": {"mine": MINE}, "experiments": {"mine": {"train": {"max_steps": 7}}}}
    )
    config = load_config([mine])
    assert config.datasets.get("mine").root == Path("data/mine")
    experiment = config.experiments.get("mine")
    assert experiment.train.max_steps == 7  # the keys the layer leaves out: the paper recipe's defaults
    assert experiment.model_copy(update={"train": Experiment().train}) == Experiment()
    assert "mine" in config.model_dump(mode="json")["experiments"]  # the workflow reads it from there
    with pytest.raises(ConfigError, match="unknown dataset 'other'.*or define datasets.other"):
        config.datasets.get("other")
    # the two may come in different files
    data = _layer(tmp_path / "data.yaml", {"datasets": {"mine": MINE}})
    recipe = _layer(tmp_path / "recipe.yaml", {"experiments": {"mine": {}}})
    assert load_config([data, recipe]).experiments.get("mine") == Experiment()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"datasets": {"mine": MINE}}, "experiments.mine: missing; datasets.mine is defined here and needs its "
         "experiment (`mine: {}` under experiments: takes every default, the paper recipe)"),
        ({"experiments": {"ghost": {}}}, "datasets.ghost: missing; experiments.ghost is defined here and needs its "
         "dataset (format, root, sizes: config/config.yaml shows every key)"),
    ],
)  # fmt: skip
def test_a_name_without_its_dataset_or_experiment_is_an_error_naming_file_and_key(tmp_path, document, message):
    layer = _layer(tmp_path / "layer.yaml", document)
    with pytest.raises(ConfigError) as error:
        load_config([REPO / "config" / "config.yaml", layer])
    assert str(error.value) == f"{layer}: {message}"


def test_a_part_of_a_config_need_not_pair_its_names():
    """--config-json carries the part of the config a workflow rule reads (the data stages get the
    dataset alone); a verb that reads an experiment the part lacks says which."""
    part = load_config([], json.dumps({"datasets": {"mine": MINE}}))
    assert part.datasets.get("mine").root == Path("data/mine")
    with pytest.raises(ConfigError, match=r"unknown experiment 'mine'.*or define experiments\.mine"):
        part.experiments.get("mine")


def test_bad_dataset_names_are_rejected_once():
    with pytest.raises(ConfigError, match="lower-case letters") as error:
        load_config([], json.dumps({"datasets": {"My Data": MINE}}))
    assert str(error.value).count("My Data") == 1  # said once, under datasets
    with pytest.raises(ConfigError, match="rehearsal names dataset 'nowhere'"):
        load_config([], json.dumps({"rehearsal": {"dataset": "nowhere", "resume_step": 2}}))


def test_the_cli_takes_a_new_dataset_name(run_cli, tmp_path):
    layer = json.dumps({"datasets": {"mine": {**MINE, "root": str(tmp_path / "missing")}}})
    result = run_cli("check-data", "--dataset", "mine", "--config-json", layer)
    assert result.code == 1 and "missing" in result.text  # read as a dataset, its files reported missing
    unknown = run_cli("check-data", "--dataset", "nothing")
    assert unknown.code == 2 and "unknown dataset 'nothing'" in unknown.text
    alone = _layer(tmp_path / "mine.yaml", {"datasets": {"mine": MINE}})
    unpaired = run_cli("check-data", "--dataset", "mine", "--config", alone)
    assert unpaired.code == 2 and f"{alone}: experiments.mine: missing; datasets.mine is defined here" in unpaired.text


def _leaves(tree, prefix=""):
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in _leaves(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): tree}


def test_the_rehearsal_differs_from_the_paper_recipe_only_where_its_layer_says():
    config = load_config([REPO / "config" / "config.yaml", REPO / "config" / "rehearsal.yaml"])
    paper = _leaves(config.experiments.deepfashion.model_dump(mode="json"))
    rehearsed = _leaves(config.experiments.get(config.rehearsal.dataset).model_dump(mode="json"))
    changed = {key.split(".")[0] + "." + key.split(".")[1] for key in paper if paper[key] != rehearsed[key]}
    # sizes, step counts, resources, and where the seeded random files go (config/rehearsal.yaml lists them)
    assert changed <= {
        "model.stable_diffusion", "model.swin", "model.tiny", "train.batch_size", "train.max_steps",
        "train.warmup_steps", "train.num_workers", "train.threads", "train.log_every", "train.checkpoint_every",
        "train.validate_every", "train.validation_pairs", "train.validation_steps", "sample.steps",
        "sample.pose_scale", "sample.batch_size", "evaluate.inception_weights", "evaluate.lpips_weights",
        "evaluate.allow_download",
    }, changed  # fmt: skip
    assert config.datasets.get("rehearsal").image_size == config.datasets.deepfashion.image_size


def test_the_512_layer_is_deepfashion_over_the_same_files_at_twice_the_size():
    config = load_config([REPO / "config" / "config.yaml", REPO / "config" / "deepfashion-512.yaml"])
    data, paper = config.datasets.get("deepfashion512"), config.datasets.deepfashion
    assert (data.format, data.root) == (paper.format, paper.root)  # the same downloads, the same split files
    # the annotation files are the 256x176 setting's: their coordinates are in its frame
    assert data.keypoint_frame == paper.image_size == (256, 176) and data.image_dirs["train"] == "train_highres"
    experiment = config.experiments.get("deepfashion512")
    height, width = experiment.train.resolution
    assert (height, width) == experiment.evaluate.size == data.skeleton_size == (512, 352)
    assert height * 176 == width * 256  # the aspect ratio of the 256x176 frame: no squeeze
    assert (height % 8, width % 8) == (0, 0) and (height // 8, width // 8) == (64, 44)  # SD1.5's VAE: 8x
    recipe, larger = (_leaves(e.model_dump(mode="json")) for e in (config.experiments.deepfashion, experiment))
    assert {key for key in recipe if recipe[key] != larger[key]} == {"train.resolution", "evaluate.size"}


def test_an_ablation_replaces_only_its_keys_and_a_layer_adds_one(tmp_path):
    config = Config()
    ablated = config.experiment("demo", "no-noise-aware")
    assert ablated.model.noise_aware is False and ablated.model.injectors is True
    assert ablated.model_copy(update={"model": config.experiments.demo.model}) == config.experiments.demo
    layer = tmp_path / "a.yaml"
    layer.write_text(
        "ablations:\n  variants:\n    short: {train: {max_steps: 10}}\n"
        "  training_order: [main, no-injectors, no-noise-aware, pose-only, short]\n"
    )
    config = load_config([layer])
    assert set(config.ablations.variants) == {"pose-only", "no-noise-aware", "no-injectors", "short"}
    assert config.experiment("market", "short").train.max_steps == 10
    with pytest.raises(ConfigError, match="unknown ablation 'long'"):
        config.experiment("demo", "long")


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("ablations:\n  variants:\n    typo: {model: {noise_awar: false}}\n  training_order: [main, no-injectors, "
         "no-noise-aware, pose-only, typo]\n", r"ablations\.variants\.typo: model\.noise_awar: unknown key"),
        ("ablations:\n  training_order: [main, pose-only]\n", r"training_order .* must list each of"),
        ("ablations:\n  variants:\n    main: {}\n", "names the main run"),
    ],
)  # fmt: skip
def test_bad_ablations_are_rejected_with_the_key(tmp_path, layer, message):
    path = tmp_path / "a.yaml"
    path.write_text(layer)
    with pytest.raises(ConfigError, match=message):
        load_config([path])
