import numpy as np
import pytest
from PIL import Image

from dnaf.data.index import DatasetIndex
from dnaf.pose.cache import SkeletonCache, render_poses, skeleton_path
from dnaf.pose.render import render_skeleton

# The OpenPose body drawing's limbs (1-based joint pairs) and colours, as published by OpenPose.
LIMBS = [(2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12), (12, 13),
         (13, 14), (2, 1), (1, 15), (15, 17), (1, 16), (16, 18)]  # fmt: skip
COLOURS = [(255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
           (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
           (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85)]  # fmt: skip
SIZE = (256, 176)


def _only(a: int, b: int) -> np.ndarray:
    keypoints = np.full((18, 2), np.nan)
    keypoints[a - 1] = (0.2, 0.2)
    keypoints[b - 1] = (0.8, 0.7)
    return keypoints


@pytest.mark.parametrize("limb", range(len(LIMBS)))
def test_each_limb_has_its_openpose_colour_where_the_limb_is(limb):
    a, b = LIMBS[limb]
    image = render_skeleton(_only(a, b), SIZE)
    x, y = (0.5 * SIZE[1], 0.45 * SIZE[0])  # the limb's midpoint
    expected = [int(c * 0.6) for c in COLOURS[limb]]
    assert image[int(y), int(x)].tolist() == expected
    # the joints are discs of the joints' colours
    assert image[int(0.2 * SIZE[0]), int(0.2 * SIZE[1])].tolist() == list(COLOURS[a - 1])
    assert image[int(0.7 * SIZE[0]), int(0.8 * SIZE[1])].tolist() == list(COLOURS[b - 1])
    # nothing away from the limb
    assert image[int(0.9 * SIZE[0]), int(0.1 * SIZE[1])].tolist() == [0, 0, 0]


def test_a_missing_joint_draws_no_limb_to_it():
    keypoints = _only(3, 4)  # right shoulder - right elbow
    keypoints[3] = np.nan  # the elbow is missing
    image = render_skeleton(keypoints, SIZE)
    assert image[int(0.45 * SIZE[0]), int(0.5 * SIZE[1])].tolist() == [0, 0, 0]
    assert image[int(0.2 * SIZE[0]), int(0.2 * SIZE[1])].tolist() == list(COLOURS[2])  # the shoulder stays
    assert (image.reshape(-1, 3) != 0).any(axis=1).sum() < 80  # just the shoulder disc


def test_bad_shape_is_rejected():
    with pytest.raises(ValueError, match=r"expected keypoints of shape \(18, 2\)"):
        render_skeleton(np.zeros((17, 2)), SIZE)


@pytest.fixture
def demo_index(small_demo_csv, tmp_path):
    from dnaf.config import Config
    from dnaf.data.load import inspect_dataset

    index, _ = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    return index


def test_cache_renders_all_and_resumes(demo_index, tmp_path):
    cache = tmp_path / "poses"
    assert render_poses(demo_index, cache, SIZE, workers=1) == len(demo_index.images)
    name = demo_index.images.index[0]
    stored = np.asarray(Image.open(skeleton_path(cache, name)))
    np.testing.assert_array_equal(stored, render_skeleton(demo_index.keypoints(name), SIZE))
    # a truncated file (as a crash could leave without atomic writes) is redrawn; others kept
    path = skeleton_path(cache, name)
    path.write_bytes(path.read_bytes()[:100])
    assert render_poses(demo_index, cache, SIZE, workers=1) == 1
    assert not list(cache.glob(".*.tmp"))


def test_cache_renders_lazily(demo_index, tmp_path):
    cache = SkeletonCache(demo_index, tmp_path / "lazy", SIZE)
    name = demo_index.images.index[1]
    skeleton = cache[name]
    assert skeleton_path(tmp_path / "lazy", name).is_file()
    np.testing.assert_array_equal(cache[name], skeleton)
    np.testing.assert_array_equal(skeleton, render_skeleton(demo_index.keypoints(name), SIZE))


def test_render_poses_cli(run_cli, demo_index, tmp_path):
    demo_index.save(tmp_path / "index")
    result = run_cli(
        "render-poses",
        "--dataset",
        "demo",
        "--index",
        tmp_path / "index",
        "--out",
        tmp_path / "poses",
        "--size",
        "128x88",
        "--workers",
        "1",
    )
    assert result.code == 0
    with Image.open(next((tmp_path / "poses").glob("*.png"))) as image:
        assert image.size == (88, 128)
    assert len(list((tmp_path / "poses").glob("*.png"))) == len(demo_index.images)


def test_index_data_cli(run_cli, small_demo_csv, tmp_path):
    result = run_cli(
        "index-data",
        "--dataset",
        "demo",
        "--root",
        small_demo_csv,
        "--out",
        tmp_path / "index",
        "--workers",
        "1",
    )
    assert result.code == 0
    assert len(DatasetIndex.load(tmp_path / "index").images) == 18


def test_preview_draws_the_skeletons_over_the_images(run_cli, small_demo_csv, demo_index, tmp_path):
    from dnaf.reports.data_preview import overlay_skeleton

    demo_index.save(tmp_path / "index")
    out = tmp_path / "preview.png"
    result = run_cli(
        "preview-data", "--dataset", "demo", "--root", small_demo_csv, "--index", tmp_path / "index",
        "--out", out, "--count", "5", "--tile-height", "128",
    )  # fmt: skip
    assert result.code == 0
    with Image.open(out) as sheet:
        assert sheet.size == (8 * 88, 128)  # 5 tiles fill one row of 8
    # the overlay keeps the picture where no skeleton is drawn and changes it where one is
    name = demo_index.images.index[0]
    picture = np.asarray(Image.open(small_demo_csv / demo_index.images.at[name, "path"]))
    blended = overlay_skeleton(picture, demo_index.keypoints(name))
    drawn = render_skeleton(demo_index.keypoints(name), picture.shape[:2]).any(axis=2)
    assert drawn.sum() > 50
    np.testing.assert_array_equal(blended[~drawn], picture[~drawn])
    assert (blended[drawn] != picture[drawn]).any()
