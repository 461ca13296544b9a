from pathlib import Path

import pytest
import yaml

from dnaf.config import Config, ConfigError, config_json_schema, load_config

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
