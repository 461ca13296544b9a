"""make-dataset: pictures regrouped as a photo folder (identities known) become a dataset that
check-data passes, split by person with a seed, pairs within a person, every left-out photo listed."""

import csv
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image

from dnaf.data.names import deepfashion_identity
from dnaf.photos.make import plan_pairs, split_identities


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def photo_folder(small_demo_csv, tmp_path):
    """The small demo's pictures as a user's folder: one subfolder per person, plus a landscape
    without anybody inside one person's folder and a photo outside every folder."""
    photos = tmp_path / "photos"
    for split in ("train", "test"):
        for picture in sorted((small_demo_csv / split).glob("*.jpg")):
            person = photos / deepfashion_identity(picture.name).removeprefix("fashion")
            person.mkdir(parents=True, exist_ok=True)
            shutil.copy(picture, person / picture.name)
    first = sorted(photos.iterdir())[0]
    Image.fromarray(np.full((300, 200, 3), 230, np.uint8)).save(first / "empty-room.jpg")
    Image.fromarray(np.full((64, 64, 3), 10, np.uint8)).save(photos / "loose.png")
    return photos


def test_a_photo_folder_becomes_a_dataset_that_check_data_passes(photo_folder, tmp_path, run_cli):
    out = tmp_path / "mine"
    result = run_cli("make-dataset", "--images", photo_folder, "--out", out, "--size", "128x88",
                     "--test-fraction", "0.34", "--seed", "1")  # fmt: skip
    assert result.code == 0, result.text
    layer = out / "dataset.yaml"
    assert yaml.safe_load(layer.read_text())["datasets"]["mine"]["identity"] == "prefix"
    checked = run_cli("check-data", "--config", layer, "--dataset", "mine", "--report", tmp_path / "check.json")
    assert checked.code == 0, checked.text

    photos = _rows(out / "photos.csv")
    split_of_person = {}
    for row in photos:
        assert split_of_person.setdefault(row["identity"], row["split"]) == row["split"]  # one split per person
    assert set(split_of_person.values()) == {"train", "test"}
    person_of = {row["name"]: row["identity"] for row in photos}
    for split in ("train", "test"):
        pairs = _rows(out / f"fasion-resize-pairs-{split}.csv")
        assert pairs, split
        for pair in pairs:  # within one person, never a picture with itself
            assert person_of[pair["from"]] == person_of[pair["to"]] and pair["from"] != pair["to"]
        listed = (out / f"{split}.lst").read_text().split()
        assert listed == sorted(row["name"] for row in photos if row["split"] == split)
    left = {row["photo"]: row["reason"] for row in _rows(out / "left-out.csv")}
    assert any(name.endswith("empty-room.jpg") and reason == "no person found" for name, reason in left.items())
    assert left["loose.png"].startswith("not inside a person's folder")
    pictures = sum(1 for _ in photo_folder.rglob("*.*"))
    assert len(photos) + len(left) == pictures  # nothing dropped silently
    with Image.open(out / photos[0]["split"] / photos[0]["name"]) as picture:
        assert picture.size == (88, 128)


def test_the_same_seed_gives_the_same_dataset(photo_folder, tmp_path, run_cli):
    for name in ("a", "b"):
        assert run_cli("make-dataset", "--images", photo_folder, "--out", tmp_path / name, "--size", "128x88").code == 0
    for file in ("photos.csv", "fasion-resize-pairs-train.csv", "fasion-resize-annotation-test.csv"):
        assert (tmp_path / "a" / file).read_text() == (tmp_path / "b" / file).read_text()


def test_an_identity_table_with_problems_names_every_one(photo_folder, tmp_path, run_cli):
    table = tmp_path / "people.csv"
    first = next(photo_folder.rglob("*.jpg")).relative_to(photo_folder).as_posix()
    table.write_text(f"file,identity\n{first},anna\nmissing.jpg,ben\n{first},anna\n../up.jpg,carl\nloose.png,\n")
    result = run_cli("make-dataset", "--images", photo_folder, "--identities", table, "--out", tmp_path / "x")
    assert result.code == 1
    for problem in ("line 3: ", "missing.jpg: no such photo", "line 4: ", "is listed again (first on line 2)",
                    "line 5: ", "would escape", "line 6: empty identity"):  # fmt: skip
        assert problem in result.text


def test_the_split_is_by_person_seeded_and_leaves_each_side_someone():
    people = [f"p{i}" for i in range(10)]
    split = split_identities(people, 0.3, seed=4)
    assert sum(s == "test" for s in split.values()) == 3
    assert split == split_identities(list(reversed(people)), 0.3, seed=4)  # the order given does not matter
    assert split != split_identities(people, 0.3, seed=5)
    assert sorted(split_identities(["a", "b"], 0.01, 0).values()) == ["test", "train"]


def test_pairs_all_ordered_or_n_per_picture():
    names = ["a", "b", "c", "d"]
    assert len(plan_pairs(names, None, np.random.default_rng(0))) == 12
    drawn = plan_pairs(names, 2, np.random.default_rng(0))
    assert len(drawn) == 8 and len(set(drawn)) == 8
    assert all(sum(s == name for s, _ in drawn) == 2 and (name, name) not in drawn for name in names)
