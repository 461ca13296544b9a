"""The texture study: its config layer, seed stability, its table, and the workflow target."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from dnaf.config import Config
from dnaf.config_files import load_config
from dnaf.core.errors import ConfigError
from dnaf.metrics.texture_stability import seeded_repeats, stability_summary
from dnaf.reports.texture_study import study_table

from .conftest import REPO
from .workflow_copy import copy_workflow, job_counts, run

STUDY = REPO / "config/texture-study.yaml"


def test_the_study_layer_defines_seven_models_the_demo_keeps_its_four():
    config = load_config([REPO / "config/config.yaml", STUDY])
    texture = config.experiments.get("texture")
    assert len(texture.ablations) == 6 and len(set(texture.ablations)) == 6
    assert config.datasets.get("texture").synthetic.patterns == "rich"
    assert texture.model.tiny.swin_absolute_positions is False  # no stronger than Swin-B's path
    assert config.experiments.get("demo").ablations == ("pose-only", "no-noise-aware", "no-injectors")
    forms = {name: config.experiment("texture", name).model for name in texture.ablations}
    assert forms["clean-reference"].reference_timestep == "clean"
    assert forms["late-reference"].reference_until == 300
    assert forms["posed-reference"].reference_pose == "source"
    assert forms["detached-reference"].reference_grad is False
    # each form changes its own key only: the rest is the main run's
    for name, model in forms.items():
        changed = {k for k, v in model.model_dump().items() if v != texture.model.model_dump()[k]}
        assert len(changed) <= 2, (name, changed)


def test_an_experiment_naming_an_unknown_ablation_is_refused(tmp_path):
    layer = tmp_path / "layer.yaml"
    layer.write_text("experiments:\n  demo:\n    ablations: [pose-only, no-such-thing]\n")
    with pytest.raises(ConfigError, match=r"experiments\.demo\.ablations names \['no-such-thing'\]"):
        load_config([REPO / "config/config.yaml", layer])


def test_seeded_repeats_spread_the_pairs_and_offset_each_seed():
    pairs = pd.DataFrame({"source": [f"s{i}" for i in range(10)], "target": [f"t{i}" for i in range(10)],
                          "file": [f"s{i}_2_t{i}.png" for i in range(10)], "seed": range(100, 110)})  # fmt: skip
    repeats = seeded_repeats(pairs, 4, 3)
    assert list(repeats["pair"].unique()) == ["s0_2_t0.png", "s3_2_t3.png", "s6_2_t6.png", "s9_2_t9.png"]
    first = repeats[repeats["pair"] == "s3_2_t3.png"]
    assert first["seed"].tolist() == [103, 104, 105] and first["file"].tolist() == [
        "s3_2_t3_seed0.png", "s3_2_t3_seed1.png", "s3_2_t3_seed2.png"]  # fmt: skip
    assert len(seeded_repeats(pairs, 50, 2)) == 20  # never more pairs than there are
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seeded_repeats(pairs, 4, 1)


def test_the_stability_summary_averages_where_defined():
    scores = pd.DataFrame({"pair": ["a", "b"], "seeds": [4, 4], "spectrum_spread": [0.2, 0.4],
                           "period_spread": [0.1, math.nan], "orientation_spread": [math.nan, math.nan],
                           "hf_energy_spread": [0.3, 0.5]})  # fmt: skip
    summary = stability_summary(scores)
    assert summary["spectrum_spread"] == pytest.approx(0.3) and summary["period_spread"] == pytest.approx(0.1)
    assert summary["period_spread_pairs"] == 1 and summary["orientation_spread"] is None


def test_the_study_table_gives_each_model_its_cost_against_the_cheapest():
    full = {"method": "DNAF", "colour_error": 0.1, "background_std": 3.0, "texture_distance": 0.5,
            "stripe_period_error": 0.2, "stripe_orientation_error": 10.0, "hf_energy_ratio": 0.7}  # fmt: skip
    metrics = [full, {"method": "pose only", "colour_error": 0.2, "background_std": 4.0, "texture_distance": None}]
    stability = [{"spectrum_spread": 0.25, "period_spread": 0.05, "orientation_spread": 7.5}, {}]
    table = study_table(metrics, stability, [10.0, 25.0]).splitlines()
    assert table[2].startswith("| DNAF | 0.1000 | 3.00 | 0.500 | 0.200 | 10.0 | 0.700 | 0.250 | 0.050 | 7.5 | 10.0 |")
    assert table[2].endswith("| 2.50 x |")  # 25 / 10 samples per second
    assert table[3].endswith("| n/a | n/a | n/a | n/a | n/a | n/a | n/a | 25.0 | 1.00 x |")


@pytest.mark.slow
def test_the_texture_study_target_runs_its_seven_models_to_the_table(tmp_path):
    workflow = copy_workflow(tmp_path / "workflow")
    reduced = {
        "datasets": {"texture": {"synthetic": {"train_identities": 3, "test_identities": 3, "poses_per_identity": 3}}},
        "experiments": {"texture": {
            "train": {"max_steps": 2, "batch_size": 4, "log_every": 1, "checkpoint_every": 2, "validate_every": 2,
                      "validation_pairs": 2, "validation_steps": 2},
            "sample": {"steps": 2, "batch_size": 8},
            "evaluate": {"allow_download": False},
        }},
    }  # fmt: skip
    (workflow / "reduced.yaml").write_text(yaml.safe_dump(reduced))
    layers = ["--configfile", "config/texture-study.yaml", "reduced.yaml"]
    result = run(workflow, "snakemake", "--cores", "2", *layers, "--", "texture_study", timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    table = (workflow / "results/texture/texture-study.md").read_text().splitlines()
    assert len(table) == 2 + 7  # header, rule, seven models
    assert table[2].startswith("| DNAF |") and any("late-reference" in line for line in table)
    posed = workflow / "results/texture/ablations/posed-reference"
    stability = json.loads((posed / "stability/stability.json").read_text())
    assert stability["pairs"] == 6 and stability["seeds"] == 4  # the 6 test pairs, each with 4 seeds
    assert np.isfinite(stability["spectrum_spread"])
    # the demo's target does not train the study's forms
    planned = run(workflow, "snakemake", "--dry-run", "--", "demo")
    assert job_counts(planned.stdout)["train_model"] == len(Config().experiments.demo.ablations) + 1


@pytest.mark.parametrize(("verb", "what"), [("seed-stability", "seed stability"), ("swap-check", "the swap check")])
def test_sampling_checks_refuse_a_dataset_without_part_maps(run_cli, tmp_path, verb, what):
    common = ["--model", tmp_path / "m", "--index", tmp_path / "i", "--poses", tmp_path / "p", "--out", tmp_path / "o"]
    result = run_cli(verb, "--dataset", "deepfashion", *common)
    assert result.code == 2 and f"{what} needs part label maps" in result.text and "Traceback" not in result.text
