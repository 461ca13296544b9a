import hashlib

import numpy as np
from PIL import Image

from dnaf.config import Config
from dnaf.data.load import inspect_dataset
from dnaf.data.parts import PART_LABELS, part_map_file, part_maps
from dnaf.demo.generate import write_demo_dataset

from .conftest import SMALL_DEMO


def _digest(root):
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_generation_is_byte_for_byte_deterministic(small_demo_csv, tmp_path, demo_size):
    again = tmp_path / "again"
    write_demo_dataset(again, SMALL_DEMO, demo_size, "csv", workers=2)
    assert _digest(again) == _digest(small_demo_csv)
    other = tmp_path / "other"
    write_demo_dataset(other, SMALL_DEMO.model_copy(update={"seed": 4}), demo_size, "csv", workers=1)
    assert _digest(other) != _digest(small_demo_csv)


def test_keypoints_land_on_the_drawn_body(small_demo_csv):
    index, _ = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    visible = 0
    for name in index.images.index:
        parts = np.asarray(Image.open(part_map_file(part_maps(small_demo_csv), name)))
        height, width = parts.shape
        for x, y in index.keypoints(name):
            if np.isnan(x):
                continue
            r, c = int(y * height), int(x * width)
            assert parts[r, c] != PART_LABELS["background"], f"{name}: joint at ({r}, {c}) is on the background"
            visible += 1
    assert visible > 0.8 * 18 * len(index.images)


def test_pictures_show_the_parts_in_the_identity_colours(small_demo_csv):
    name = (small_demo_csv / "train.lst").read_text().split()[0]
    picture = np.asarray(Image.open(small_demo_csv / "train" / name)).astype(float)
    parts = np.asarray(Image.open(part_map_file(part_maps(small_demo_csv), name)))
    background = picture[parts == PART_LABELS["background"]]
    assert background.mean() > 220  # a light background
    for part in ("skin", "upper", "lower"):
        assert (parts == PART_LABELS[part]).sum() > 20, part
    # each identity keeps its lower-garment colour across its pictures
    names = [n for n in (small_demo_csv / "train.lst").read_text().split()][:3]
    means = []
    for n in names:
        p = np.asarray(Image.open(small_demo_csv / "train" / n)).astype(float)
        m = np.asarray(Image.open(part_map_file(part_maps(small_demo_csv), n)))
        means.append(p[m == PART_LABELS["lower"]].mean(axis=0))
    assert np.abs(np.array(means) - means[0]).max() < 25


def test_train_and_test_identities_are_disjoint_and_pairs_stay_within_one(
    small_demo_csv,
):
    index, _ = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    identity = index.images["identity"]
    train = set(identity[index.images["split"] == "train"])
    test = set(identity[index.images["split"] == "test"])
    assert len(train) == 4 and len(test) == 2 and not train & test
    assert (identity.loc[index.pairs["source"]].to_numpy() == identity.loc[index.pairs["target"]].to_numpy()).all()
    assert (index.pairs["source"] != index.pairs["target"]).all()


def test_make_demo_data_cli_then_check_data_passes(run_cli, tmp_path):
    out = tmp_path / "demo"
    config = (
        '{"datasets": {"demo": {"synthetic": {"train_identities": 3, "test_identities": 1, "poses_per_identity": 2}}}}'
    )
    assert (
        run_cli(
            "make-demo-data",
            "--out",
            out,
            "--config-json",
            config,
            "--layout",
            "nted",
            "--workers",
            "1",
        ).code
        == 0
    )
    assert (out / "img").is_dir() and (out / "pose").is_dir() and (out / "test_pairs.txt").is_file()
    again = run_cli("make-demo-data", "--out", out, "--config-json", config)
    assert again.code == 2 and "--overwrite" in again.text
    nted = '{"datasets": {"demo": {"format": "deepfashion-nted"}}}'
    assert run_cli("check-data", "--dataset", "demo", "--root", out, "--config-json", nted).code == 0
