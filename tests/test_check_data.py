"""One test per bad-input class of `dnaf check-data`: exit code and a message naming file and row/name."""

import json
import shutil
import time

import pytest

from .conftest import write_market

ANNOTATION = "fasion-resize-annotation-train.csv"
PAIRS = "fasion-resize-pairs-train.csv"


def _check(run_cli, root, *extra):
    return run_cli("check-data", "--dataset", "demo", "--root", root, "--workers", "1", *extra)


def _rows(root, file):
    return (root / file).read_text().splitlines()


def _write_rows(root, file, rows):
    (root / file).write_text("\n".join(rows) + "\n")


def _first_train_image(root):
    return _rows(root, "train.lst")[0]


def test_clean_demo_passes_with_a_summary(run_cli, demo_copy, tmp_path):
    report = tmp_path / "report.json"
    result = _check(run_cli, demo_copy, "--report", report)
    assert result.code == 0, result.text
    assert "train: 12 images, 4 identities, 24 pairs" in result.text
    assert "test: 6 images, 2 identities, 4 pairs" in result.text
    data = json.loads(report.read_text())
    assert data["errors"] == [] and data["counts"]["test"]["pairs"] == 4
    assert data["counts"]["train"]["images_without_keypoints"] == 0


def test_missing_image(run_cli, demo_copy):
    name = _first_train_image(demo_copy)
    (demo_copy / "train" / name).unlink()
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert any(f"train/{name}: {name}: image file is missing (used by" in m for m in result.errors())


def test_truncated_image(run_cli, demo_copy):
    name = _first_train_image(demo_copy)
    path = demo_copy / "train" / name
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert any(f"train/{name}: {name}: image does not decode" in m for m in result.errors())


def test_corrupt_image(run_cli, demo_copy):
    name = _first_train_image(demo_copy)
    (demo_copy / "train" / name).write_bytes(b"not a jpeg at all")
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert any(f"train/{name}: {name}: image does not decode" in m for m in result.errors())


def _values(*values):
    return "[" + ", ".join(str(v) for v in values) + "]"


def _replace_row(root, ys=None, xs=None):
    """Replace the keypoint lists of the first annotation row; returns its name."""
    rows = _rows(root, ANNOTATION)
    name, old_ys, old_xs = rows[1].split(":")
    rows[1] = f"{name}: {ys or old_ys.strip()}: {xs or old_xs.strip()}"
    _write_rows(root, ANNOTATION, rows)
    return name


def test_keypoint_row_with_17_values(run_cli, demo_copy):
    name = _replace_row(demo_copy, xs=_values(*[5] * 17))
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert f"ERROR {ANNOTATION}: line 2 ({name}): keypoints_x has 17 values, expected 18" in result.errors()


def test_non_numeric_keypoint(run_cli, demo_copy):
    name = _replace_row(demo_copy, ys=_values("abc", *[5] * 17))
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert f"ERROR {ANNOTATION}: line 2 ({name}): keypoints_y has a non-numeric value 'abc'" in result.errors()


def test_keypoint_outside_the_frame(run_cli, demo_copy):
    name = _replace_row(demo_copy, ys=_values(500, *[5] * 17), xs=_values(*[5] * 18))
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert (
        f"ERROR {ANNOTATION}: line 2 ({name}): joint 0 (nose) at y=500, x=5 is outside the 128x88 frame"
        in result.errors()
    )


def test_pair_naming_an_image_without_annotation(run_cli, demo_copy):
    rows = _rows(demo_copy, PAIRS)
    rows.append(f"ghost.jpg,{rows[1].split(',')[1]}")
    _write_rows(demo_copy, PAIRS, rows)
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert f"ERROR {PAIRS}: line {len(rows)}: source ghost.jpg has no keypoint annotation" in result.errors()


def test_pair_naming_an_image_without_file(run_cli, demo_copy):
    source = _rows(demo_copy, PAIRS)[1].split(",")[0]
    (demo_copy / "train" / source).unlink()
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert any(m.startswith(f"ERROR train/{source}: {source}: image file is missing (used by") for m in result.errors())


def test_duplicate_name_with_conflicting_keypoints(run_cli, demo_copy):
    rows = _rows(demo_copy, ANNOTATION)
    name, ys, xs = rows[1].split(":")
    rows.append(f"{name}:{ys}: [" + ", ".join(["3"] * 18) + "]")
    _write_rows(demo_copy, ANNOTATION, rows)
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    where = f"{ANNOTATION}: line {len(rows)} ({name})"
    expected = f"ERROR {where}: conflicting keypoints for {name}: differs from {ANNOTATION} line 2 ({name})"
    assert expected in result.errors()


def test_duplicate_name_with_same_keypoints_is_a_warning(run_cli, demo_copy):
    rows = _rows(demo_copy, ANNOTATION)
    rows.append(rows[1])
    _write_rows(demo_copy, ANNOTATION, rows)
    result = _check(run_cli, demo_copy)
    assert result.code == 0
    assert any("duplicate annotation" in m and f"line {len(rows)}" in m for m in result.messages)


@pytest.mark.parametrize("bad", ["../escape.jpg", "/etc/passwd"])
def test_name_escaping_the_root(run_cli, demo_copy, bad):
    rows = _rows(demo_copy, "train.lst")
    rows.append(bad)
    _write_rows(demo_copy, "train.lst", rows)
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert any(
        m.startswith(f"ERROR train.lst: line {len(rows)}: ") and "escape the dataset root" in m for m in result.errors()
    )


def test_empty_split(run_cli, demo_copy):
    _write_rows(demo_copy, "fasion-resize-pairs-test.csv", ["from,to"])
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    # named by the file that lists the pairs, which the user can open
    assert (
        "ERROR fasion-resize-pairs-test.csv: the test split has no usable pair (no rows, or every row rejected "
        "above)" in result.errors()
    )


def test_image_of_the_wrong_size(run_cli, demo_copy):
    from PIL import Image

    name = _first_train_image(demo_copy)
    Image.new("RGB", (176, 256)).save(demo_copy / "train" / name)
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert (
        f"ERROR train/{name}: {name}: image is 256x176 (HxW), expected 128x88 (image_size in the config)"
        in result.errors()
    )


def test_all_problems_are_reported_at_once(run_cli, demo_copy):
    names = _rows(demo_copy, "train.lst")
    (demo_copy / "train" / names[0]).unlink()
    (demo_copy / "train" / names[1]).write_bytes(b"")
    _replace_row(demo_copy, xs=_values(1, 2))
    result = _check(run_cli, demo_copy)
    assert result.code == 1
    assert len(result.errors()) >= 3


def test_market_identity_overlap(run_cli, tmp_path):
    write_market(
        tmp_path,
        {"train": ["0002", "0007", "-1"], "test": ["0007", "0009", "-1", "0000"]},
    )
    result = run_cli("check-data", "--dataset", "market", "--root", tmp_path, "--workers", "1")
    assert result.code == 1
    overlap = [m for m in result.errors() if "appears in both splits" in m]
    assert len(overlap) == 1 and overlap[0].startswith("ERROR train/test split: identity 0007: appears in both splits")


def test_counts_that_differ_from_the_published_split_are_warnings(run_cli, tmp_path):
    write_market(tmp_path, {"train": ["0002", "0003"], "test": ["0009"]})
    result = run_cli("check-data", "--dataset", "market", "--root", tmp_path, "--workers", "1")
    assert result.code == 0, result.text
    assert "WARNING test split: 1 pairs, the published split has 12000" in result.messages


def test_missing_files_and_root(run_cli, tmp_path):
    result = run_cli("check-data", "--dataset", "market", "--root", tmp_path / "nowhere")
    assert result.code == 1 and "dataset root is not a directory" in result.text
    result = run_cli("check-data", "--dataset", "market", "--root", tmp_path)
    assert result.code == 1
    assert "ERROR market-annotation-train.csv: file is missing" in result.errors()


def test_usage_errors_exit_2(run_cli, tmp_path, demo_copy):
    unknown = run_cli("check-data", "--dataset", "celeba", "--root", tmp_path)  # not defined by any config layer
    assert unknown.code == 2 and "unknown dataset 'celeba'" in unknown.text
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: {demo: {colour: red}}\n")
    result = run_cli("check-data", "--dataset", "demo", "--root", demo_copy, "--config", bad)
    assert result.code == 2 and "datasets.demo.colour: unknown key" in result.text


def test_real_market_files_parse_in_seconds(run_cli, real_fixtures, tmp_path):
    for name in ("market-annotation-test.csv", "market-pairs-test.csv"):
        shutil.copy(real_fixtures / name, tmp_path / name)
    report = tmp_path / "report.json"
    started = time.perf_counter()
    result = run_cli(
        "check-data",
        "--dataset",
        "market",
        "--root",
        tmp_path,
        "--skip-images",
        "--report",
        report,
    )
    seconds = time.perf_counter() - started
    data = json.loads(report.read_text())
    assert data["counts"]["test"]["images"] == 19732
    assert data["counts"]["test"]["pairs"] == 12000
    # only the train files, which the fixture does not have, are missing
    assert sorted(data["errors"]) == sorted(
        [
            "ERROR market-annotation-train.csv: file is missing",
            "ERROR market-pairs-train.csv: file is missing",
            "ERROR market-annotation-train.csv: the train split has no usable image (no rows, or every row rejected "
            "above)",
            "ERROR market-pairs-train.csv: the train split has no usable pair (no rows, or every row rejected above)",
        ]
    )
    assert result.code == 1
    assert seconds < 30


def test_a_missing_or_broken_index_folder_is_named_with_exit_1(run_cli, tmp_path):
    result = run_cli("render-poses", "--dataset", "demo", "--index", tmp_path / "none", "--out", tmp_path / "poses")
    assert result.code == 1
    assert f"{tmp_path / 'none' / 'images.csv'}, {tmp_path / 'none' / 'pairs.csv'}: no such file" in result.text
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "images.csv").write_text("name,split\n")
    (tmp_path / "index" / "pairs.csv").write_text("source,target,split\n")
    result = run_cli("render-poses", "--dataset", "demo", "--index", tmp_path / "index", "--out", tmp_path / "poses")
    assert result.code == 1 and f"{tmp_path / 'index' / 'images.csv'}: missing columns" in result.text
