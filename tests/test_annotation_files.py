import numpy as np
import pytest

from dnaf.data.annotation_files import (
    read_keypoint_csv,
    read_nted_pairs,
    read_nted_pose,
    unsafe_path_reason,
)
from dnaf.data.keypoints import pixel_to_normalised
from dnaf.data.problems import ProblemLog

YS = list(range(10, 28))
XS = [5] * 17 + [-1]


def _annotation(tmp_path, *rows):
    path = tmp_path / "a.csv"
    path.write_text("name:keypoints_y:keypoints_x\n" + "\n".join(rows) + "\n")
    return path


def test_keypoint_rows_parse_to_pixel_yx(tmp_path):
    ys = YS[:17] + [-1]
    path = _annotation(tmp_path, f"a.jpg: {ys}: {XS}")
    log = ProblemLog()
    rows = read_keypoint_csv(path, tmp_path, (128, 64), log)
    assert log.problems == []
    assert rows[0].name == "a.jpg" and rows[0].line == 2
    np.testing.assert_array_equal(rows[0].yx, np.array([ys, XS]).T)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"a.jpg: {YS[:17]}: {XS}", "keypoints_y has 17 values, expected 18"),
        (
            f"a.jpg: {YS}: {XS[:-1] + ['x']}".replace("'", ""),
            "keypoints_x has a non-numeric value 'x'",
        ),
        (
            f"a.jpg: {YS}: {XS[:-1] + [2.5]}",
            "keypoints_x has a non-integer value '2.5'",
        ),
        (
            f"a.jpg: {YS[:-1] + [300]}: {XS[:-1] + [3]}",
            "joint 17 (left_ear) at y=300, x=3 is outside the 128x64 frame",
        ),
        (f"a.jpg: {YS}: {XS}", "joint 17 (left_ear) has only one coordinate missing"),
        (f"a.jpg: {YS}", "expected 3 ':'-separated fields, got 2"),
    ],
)
def test_bad_keypoint_rows_are_reported_with_line_and_name(tmp_path, row, message):
    path = _annotation(tmp_path, row)
    log = ProblemLog()
    assert read_keypoint_csv(path, tmp_path, (128, 64), log) == []
    assert len(log.errors) == 1
    problem = log.errors[0]
    assert problem.file == "a.csv" and problem.where.startswith("line 2")
    assert message in problem.message


def test_wrong_header_is_reported(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name,keypoints\n")
    log = ProblemLog()
    read_keypoint_csv(path, tmp_path, (128, 64), log)
    assert "expected the header" in log.errors[0].message


@pytest.mark.parametrize(
    "name",
    ["../x.jpg", "/etc/passwd", "a/../../b.jpg", "C:\\x.jpg", "\\\\server\\x.jpg"],
)
def test_unsafe_names(name):
    assert "escape the dataset root" in unsafe_path_reason(name)


def test_safe_names():
    assert unsafe_path_reason("fashionMENDenimid0000008001_1front.jpg") is None
    assert unsafe_path_reason("img/MEN/Denim/id_00000080/01_1_front.jpg") is None


def test_nted_pose_file_shifts_the_border(tmp_path):
    path = tmp_path / "p.txt"
    rows = [f"{40 + k} {100 + k}" for k in range(17)] + ["-1 -1"]
    path.write_text("\n".join(rows) + "\n")
    log = ProblemLog()
    yx = read_nted_pose(path, tmp_path, log)
    assert log.problems == []
    assert yx[0].tolist() == [100, 0] and yx[16].tolist() == [116, 16] and yx[17].tolist() == [-1, -1]


def test_nted_pairs_expand_every_source(tmp_path):
    path = tmp_path / "test_pairs.txt"
    path.write_text(
        "img/MEN/A/id_00000001/01_1_front.jpg,img/MEN/A/id_00000001/01_2_side.jpg,img/MEN/A/id_00000001/01_3_back.jpg\n"
    )
    rows = read_nted_pairs(path, tmp_path, ProblemLog())
    assert [(r.source.rsplit("/", 1)[1], r.target.rsplit("/", 1)[1], r.line) for r in rows] == [
        ("01_2_side.jpg", "01_1_front.jpg", 1),
        ("01_3_back.jpg", "01_1_front.jpg", 1),
    ]


def test_normalisation_divides_by_the_frame_and_marks_missing_joints():
    yx = np.array([[k * 7, k * 3] for k in range(18)])
    yx[5] = -1
    xy = pixel_to_normalised(yx, (256, 176))
    expected = np.array([[k * 3 / 176, k * 7 / 256] for k in range(18)])  # (x / width, y / height)
    expected[5] = np.nan
    np.testing.assert_array_equal(xy, expected)
