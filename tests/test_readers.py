import numpy as np

from dnaf.config import Config
from dnaf.data.annotation_files import read_name_list
from dnaf.data.index import DatasetIndex
from dnaf.data.load import inspect_dataset
from dnaf.data.problems import ProblemLog

from .conftest import SMALL_DEMO, write_market

DEMO = Config().datasets.demo


def test_csv_layout_reads_into_the_canonical_index(small_demo_csv, demo_size):
    index, log = inspect_dataset(DEMO, small_demo_csv, workers=1)
    assert log.errors == []
    images = index.images
    assert len(images) == (SMALL_DEMO.train_identities + SMALL_DEMO.test_identities) * SMALL_DEMO.poses_per_identity
    assert set(images["split"]) == {"train", "test"}
    assert (images["height"] == demo_size[0]).all() and (images["width"] == demo_size[1]).all()
    assert all(
        path == f"{split}/{name}"
        for name, path, split in zip(images.index, images["path"], images["split"], strict=True)
    )
    keypoints = index.all_keypoints()
    assert keypoints.shape == (len(images), 18, 2)
    assert np.nanmin(keypoints) >= 0 and np.nanmax(keypoints) < 1
    assert len(index.pairs) == 4 * 3 * 2 + 2 * 2


def test_nted_layout_gives_the_same_index(small_demo_csv, small_demo_nted):
    csv_index, _ = inspect_dataset(DEMO, small_demo_csv, workers=1)
    nted_config = DEMO.model_copy(update={"format": "deepfashion-nted"})
    nted_index, log = inspect_dataset(nted_config, small_demo_nted, workers=1)
    assert log.errors == []
    assert sorted(nted_index.images.index) == sorted(csv_index.images.index)
    assert nted_index.images.loc[csv_index.images.index, "path"].str.startswith("img/").all()
    # the NTED frame is 256x176 (+border): keypoints agree up to one pixel of either frame
    nted = DatasetIndex(nted_index.images.loc[csv_index.images.index], nted_index.pairs)
    difference = np.abs(nted.all_keypoints() - csv_index.all_keypoints())
    assert np.nanmax(difference) <= 1 / 88 + 1 / 176
    assert np.array_equal(np.isnan(nted.all_keypoints()), np.isnan(csv_index.all_keypoints()))
    pairs = lambda idx: sorted(map(tuple, idx.pairs.to_numpy()))  # noqa: E731
    assert pairs(nted_index) == pairs(csv_index)


def test_market_layout(tmp_path):
    write_market(tmp_path, {"train": ["0002", "0003"], "test": ["0009", "0000"]})
    config = Config().datasets.market
    index, log = inspect_dataset(config, tmp_path, workers=1)
    assert log.errors == []
    assert set(index.images["identity"]) == {"0002", "0003", "0009", "0000"}
    name = "0002_c1s1_000101_01.jpg"  # camera 1: train
    assert index.images.at[name, "path"] == f"train/{name}"
    # y = 10 + 5k in a 128-high frame, x = 20 in a 64-wide frame
    np.testing.assert_allclose(index.keypoints(name)[3], [20 / 64, 25 / 128])


def test_index_round_trips_through_csv(small_demo_csv, tmp_path):
    index, _ = inspect_dataset(DEMO, small_demo_csv, workers=1)
    index.save(tmp_path / "index")
    loaded = DatasetIndex.load(tmp_path / "index")
    assert loaded.images.index.tolist() == index.images.index.tolist()
    np.testing.assert_allclose(loaded.all_keypoints(), index.all_keypoints(), atol=1e-6)
    assert loaded.pairs.equals(index.pairs)
    assert loaded.images["height"].tolist() == index.images["height"].tolist()


def test_real_deepfashion_split_lists_parse(real_fixtures):
    log = ProblemLog()
    train = read_name_list(real_fixtures / "deepfashion-train.lst", real_fixtures, log)
    test = read_name_list(real_fixtures / "deepfashion-test.lst", real_fixtures, log)
    assert log.problems == []
    assert (len(train), len(test)) == (48674, 4038)
    assert not {n for n, _ in train} & {n for n, _ in test}
