"""A dataset of the user's own name: photos made into a dataset by dnaf make-dataset, whose config
layer defines it, run through the workflow; the 512x352 DeepFashion layer reads the pictures at
their original size with the 256x176 annotation files."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from dnaf.config import Config
from dnaf.core.settings import deep_merge
from dnaf.data.config import SyntheticConfig
from dnaf.data.deepfashion import csv_layout_files
from dnaf.data.index import DatasetIndex
from dnaf.data.names import flatten_deepfashion_path
from dnaf.demo.generate import write_demo_dataset

from .conftest import REPO, SMALL_DEMO
from .workflow_copy import REDUCED_DEMO, copy_workflow, job_counts, run

HIGHRES = (1101, 750)
"""img_highres.zip's picture size (height, width), as config/deepfashion-512.yaml says."""


def _annotation(path: Path) -> dict[str, tuple[list[int], list[int]]]:
    """name -> (ys, xs) of a GFLA/CFLD annotation file, read here without the package's reader."""
    rows = {}
    for line in path.read_text().splitlines()[1:]:
        name, ys, xs = line.split(":")
        rows[name] = (json.loads(ys), json.loads(xs))
    return rows


def test_the_512_layer_reads_the_original_pictures_with_the_256x176_keypoints(run_cli, tmp_path):
    """The CFLD layout of the 512 setting from the downloads: img_highres.zip unpacked as img/,
    placed by prepare-highres into train_highres/ and test_highres/ at the original size; the
    annotation files are those of the 256x176 setting."""
    root = tmp_path / "deepfashion"
    write_demo_dataset(root, SMALL_DEMO, (256, 176), "csv", workers=1)
    write_demo_dataset(tmp_path / "tree", SMALL_DEMO, (256, 176), "nted", workers=1)  # the same pictures in img/
    for picture in (tmp_path / "tree" / "img").rglob("*.jpg"):
        target = root / picture.relative_to(tmp_path / "tree")
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(picture) as image:
            image.resize(HIGHRES[::-1], Image.Resampling.BICUBIC).save(target)
    for split in ("train", "test"):
        shutil.rmtree(root / split)
    layer = REPO / "config" / "deepfashion-512.yaml"
    prepare = ("prepare-highres", "--dataset", "deepfashion512", "--config", layer, "--root", root)
    assert run_cli(*prepare).code == 0
    assert "0 pictures placed, 18 already in place" in run_cli(*prepare).text  # a rerun has nothing to do
    tree = {flatten_deepfashion_path(p.relative_to(root).as_posix()): p for p in (root / "img").rglob("*.jpg")}
    for placed in (root / "train_highres").iterdir():
        assert placed.stat().st_ino == tree[placed.name].stat().st_ino  # a hard link, not a second copy
    layer = REPO / "config" / "deepfashion-512.yaml"
    checked = run_cli("check-data", "--dataset", "deepfashion512", "--config", layer, "--root", root, "--workers", 1)
    assert checked.code == 0 and checked.errors() == [], checked.text
    indexed = run_cli("index-data", "--dataset", "deepfashion512", "--config", layer, "--root", root,
                      "--out", tmp_path / "index", "--workers", 1)  # fmt: skip
    assert indexed.code == 0, indexed.text
    index = DatasetIndex.load(tmp_path / "index")
    for split in ("train", "test"):
        for name, (ys, xs) in _annotation(root / csv_layout_files(split)["annotation"]).items():
            row = index.images.loc[name]
            assert row["path"] == f"{split}_highres/{name}"
            for joint, (y, x) in enumerate(zip(ys, xs, strict=True)):
                if y >= 0:  # normalised by the 256x176 frame, whatever the pictures' size (6 decimals kept)
                    assert row[f"y{joint}"] == pytest.approx(y / 256, abs=1e-6)
                    assert row[f"x{joint}"] == pytest.approx(x / 176, abs=1e-6)

    missing = sorted(tree)[0]
    tree[missing].unlink()
    result = run_cli(*prepare)
    assert result.code == 1 and f"{missing}: no such picture under img/" in result.text


def _mine_layer(root: Path) -> dict:
    """datasets.mine over the files in ``root`` (a user's own: nothing generates them) and
    experiments.mine: the demo's tiny model and recipe, reduced to seconds as the other workflow
    tests reduce the demo."""
    experiment = deep_merge(Config().experiments.demo.model_dump(mode="json"), REDUCED_DEMO["experiments"]["demo"])
    # one sampling shard: the demo's workflow tests cover the scatter, each job here costs a process
    experiment = deep_merge(experiment, {"sample": {"shards": 1}})
    dataset = {"format": "deepfashion-csv", "root": str(root), "image_size": [128, 88], "skeleton_size": [256, 176],
               "disjoint_identities": True, "published_counts": None, "synthetic": None}  # fmt: skip
    return {"datasets": {"mine": dataset}, "experiments": {"mine": experiment}}


@pytest.mark.slow
def test_a_dataset_of_its_own_name_trains_samples_and_scores_through_the_workflow(tmp_path, run_cli):
    """The user's path: a folder of photos, one subfolder per person -> dnaf make-dataset (its
    config layer names the dataset) -> the workflow, with a second layer for a tiny model."""
    pictures = tmp_path / "generated"
    write_demo_dataset(pictures, SyntheticConfig(train_identities=3, test_identities=2, poses_per_identity=3),
                       (128, 88), "csv", workers=1)  # fmt: skip
    photos = tmp_path / "photos"
    for picture in sorted(pictures.glob("*/*.jpg")):  # nothing of the generator but the pictures
        person = photos / picture.name.split("id")[1][:8]
        person.mkdir(parents=True, exist_ok=True)
        shutil.copy(picture, person / picture.name)
    root = tmp_path / "mine"
    made = run_cli("make-dataset", "--images", photos, "--out", root, "--size", "128x88", "--test-fraction", "0.4")
    assert made.code == 0, made.text
    summary = json.loads((root / "summary.json").read_text())
    workflow = copy_workflow(tmp_path / "workflow")
    tiny = {"experiments": {"mine": _mine_layer(root)["experiments"]["mine"]}}
    (workflow / "tiny.yaml").write_text(yaml.safe_dump(tiny, sort_keys=False))
    layers = ["--configfile", str(root / "dataset.yaml"), "tiny.yaml"]

    result = run(workflow, "snakemake", "--cores", "2", *layers, "--", "results/mine/metrics.json")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((workflow / "results/mine/metrics.json").read_text())
    assert metrics["dataset"] == "mine" and metrics["method"] == "DNAF"
    assert metrics["counts"]["generated"] == summary["pairs"]["test"] > 0
    assert -1 <= metrics["ssim"] <= 1 and metrics["psnr"] > 0  # 3 training steps: scores exist, no more
    assert metrics["fid"] is None and "downloads are off" in metrics["unavailable"]["fid"]
    assert metrics["colour_error"] is None  # no part label maps: not synthetic data
    assert not (workflow / "data").exists()  # nothing generated: the files were the user's

    # the ablations and the baseline of the comparison are planned for it too (a dry run)
    planned = run(workflow, "snakemake", "--dry-run", *layers, "--", "results/mine/comparison.md")
    assert planned.returncode == 0, planned.stderr[-3000:]
    jobs = job_counts(planned.stdout)
    assert jobs["train_model"] == len(Config().ablations.variants) and jobs["copy_source"] == 1
    assert jobs["compare_runs"] == 1 and "swap_check" not in jobs and "make_demo_data" not in jobs


def test_a_dataset_without_its_experiment_stops_the_workflow_with_the_file_and_the_key(tmp_path):
    workflow = copy_workflow(tmp_path / "workflow")
    layer = _mine_layer(tmp_path / "my-pictures")
    del layer["experiments"]
    (workflow / "mine.yaml").write_text(yaml.safe_dump(layer))
    result = run(workflow, "snakemake", "--dry-run", "--configfile", "mine.yaml", "--", "results/mine/metrics.json")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"{workflow / 'mine.yaml'}: experiments.mine: missing; datasets.mine is defined here" in output
    assert "Traceback" not in output and 'File "' not in output  # the message alone
