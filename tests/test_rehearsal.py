"""The rehearsal of the paper path (config/rehearsal.yaml) run through the workflow: the
deepfashion experiment's code path on placeholder data and seeded random base models, end to end."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from .workflow_copy import copy_workflow, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    folder = copy_workflow(tmp_path_factory.mktemp("rehearsal"))
    result = run(folder, "snakemake", "--cores", "2", "--configfile", "config/rehearsal.yaml", "--", "rehearsal",
                 timeout=900, OMP_NUM_THREADS="1")  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return folder


def test_metrics_json_holds_every_number_marked_not_meaningful(rehearsed):
    document = json.loads((rehearsed / "results/rehearsal/metrics.json").read_text())
    assert document["fid"] is not None and document["lpips"] is not None and document["unavailable"] == {}
    assert document["meaningful"] is False
    assert sum("seeded random" in w for w in document["warnings"]) == 2  # Inception and AlexNet
    assert document["protocol"]["name"] == "cfld" and document["protocol"]["size"] == [256, 176]
    assert document["counts"]["fid_generated"] == document["counts"]["test_pairs"] == 4
    report = (rehearsed / "results/rehearsal/report.html").read_text()
    assert "NOT MEANINGFUL" in report


def test_the_paper_code_path_ran(rehearsed):
    config = yaml.safe_load((rehearsed / "results/rehearsal/train/config.resolved.yaml").read_text())
    experiment = config["experiments"]["rehearsal"]
    assert experiment["model"]["base"] == "pretrained" and experiment["model"]["space"] == "latent"
    assert experiment["train"]["mixed_precision"] == "bf16" and experiment["sample"]["guidance"] == "disentangled"
    # two real ranks, a checkpoint, and the resumed second training ends with the same weights
    progress = json.loads((rehearsed / "results/rehearsal/train/checkpoints/step-0000004/progress.json").read_text())
    assert progress["processes"] == 2
    resume = json.loads((rehearsed / "results/rehearsal/rehearsal/resume.json").read_text())
    assert resume["identical"] is True and resume["differences"] == []
    # the model folder is a self-contained pipeline: the frozen base too, at full precision although
    # it trained in bf16, bit for bit the SD1.5 folder's
    model = rehearsed / "results/rehearsal/train/model"
    index = json.loads((model / "model_index.json").read_text())
    assert index["_class_name"] == "DNAFPipeline" and index["image_size"] == [256, 176]
    assert sorted(p.name for p in model.iterdir() if p.is_dir()) == [
        "adapter", "appearance_encoder", "injectors", "prompt", "scheduler", "unet", "vae"]  # fmt: skip
    unet = load_file(model / "unet" / "diffusion_pytorch_model.safetensors")
    base = load_file(
        rehearsed / experiment["model"]["stable_diffusion"] / "unet" / "diffusion_pytorch_model.safetensors"
    )
    assert unet.keys() == base.keys() and all(torch.equal(unet[k], base[k]) for k in base)
    # sampling: four shards, disentangled guidance with both scales 2 (four rows a step)
    assert len(list((rehearsed / "results/rehearsal/samples/shards").glob("*.csv"))) == 4
    settings = json.loads((rehearsed / "results/rehearsal/samples/images/sampling.json").read_text())["sample"]
    assert (settings["guidance"], settings["pose_scale"], settings["appearance_scale"]) == ("disentangled", 2.0, 2.0)


def test_both_deepfashion_layouts_index_to_the_same_dataset(rehearsed):
    csv, nted = (rehearsed / "results" / name / "data" for name in ("rehearsal", "rehearsal-nted"))
    images = {name: pd.read_csv(folder / "images.csv").set_index("name").sort_index() for name, folder in
              (("csv", csv), ("nted", nted))}  # fmt: skip
    assert list(images["csv"].index) == list(images["nted"].index)
    assert (images["csv"]["split"] == images["nted"]["split"]).all()
    keypoints = [c for c in images["csv"].columns if c.startswith(("x", "y"))]
    assert keypoints, images["csv"].columns
    # NTED's pose files store another frame: the same joints to within a pixel of the 256x176 image
    difference = (images["csv"][keypoints] - images["nted"][keypoints]).abs().to_numpy()
    assert np.nanmax(difference) <= 1.5 / 176
    pairs = [pd.read_csv(folder / "pairs.csv").sort_values(["source", "target"]).reset_index(drop=True)
             for folder in (csv, nted)]  # fmt: skip
    pd.testing.assert_frame_equal(pairs[0], pairs[1])
