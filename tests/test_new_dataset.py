"""The 512x352 DeepFashion layer reads the pictures at their original size with the 256x176
annotation files."""

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from dnaf.data.deepfashion import csv_layout_files
from dnaf.data.index import DatasetIndex
from dnaf.demo.generate import write_demo_dataset

from .conftest import REPO, SMALL_DEMO

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
    """The CFLD layout of the 512 setting: train_highres/ and test_highres/ hold the pictures at
    their original size; the annotation files are those of the 256x176 setting."""
    root = tmp_path / "deepfashion"
    write_demo_dataset(root, SMALL_DEMO, (256, 176), "csv", workers=1)
    for split in ("train", "test"):
        (root / f"{split}_highres").mkdir()
        for picture in (root / split).iterdir():
            with Image.open(picture) as image:
                image.resize(HIGHRES[::-1], Image.Resampling.BICUBIC).save(root / f"{split}_highres" / picture.name)
        shutil.rmtree(root / split)
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
