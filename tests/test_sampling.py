"""Sharded, resumable sampling of the test pairs with a tiny trained model."""

import hashlib
import json

import pytest

from dnaf.config import Config, train_setup
from dnaf.data.index import DatasetIndex
from dnaf.data.load import inspect_dataset
from dnaf.pose.cache import SkeletonCache
from dnaf.sampling.run import gather_samples, sample_shard
from dnaf.sampling.shards import output_name, pair_seed, pairs_to_sample, shard_batches
from dnaf.training.trainer import Trainer, TrainPaths

from .test_training import tiny_config


@pytest.fixture(scope="module")
def trained(small_demo_csv, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    index, _ = inspect_dataset(Config().datasets.demo, small_demo_csv, workers=1)
    index.save(folder / "index")
    config = tiny_config(max_steps=2, checkpoint_every=2, validate_every=2)
    Trainer(
        train_setup(config, "demo"), TrainPaths(folder / "index", small_demo_csv, folder / "poses", folder / "run")
    ).run()
    skeletons = SkeletonCache(index, folder / "poses", config.datasets.demo.skeleton_size)
    return config, index, skeletons, folder / "run" / "model"


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def _sample_all(trained, root, out, shards):
    config, index, skeletons, model = trained
    manifests = []
    for shard in range(shards):
        manifest = sample_shard(model, index, root, skeletons, out, config.experiments.demo.sample, shard, shards)
        path = out.parent / f"{out.name}-shard-{shard}.csv"
        manifest.to_csv(path, index=False)
        manifests.append(path)
    return manifests


def test_one_shard_and_three_shards_give_identical_images(trained, small_demo_csv, tmp_path):
    _sample_all(trained, small_demo_csv, tmp_path / "one", 1)
    manifests = _sample_all(trained, small_demo_csv, tmp_path / "three", 3)
    one, three = _digests(tmp_path / "one"), _digests(tmp_path / "three")
    assert len(one) == 4 and one == three
    joined = gather_samples(trained[1], tmp_path / "three", manifests, tmp_path / "manifest.csv")
    assert sorted(joined["file"]) == sorted(one)


def test_an_interrupted_run_resumes_without_duplicates_or_truncated_files(trained, small_demo_csv, tmp_path):
    out = tmp_path / "images"
    _sample_all(trained, small_demo_csv, out, 1)
    reference = _digests(out)
    names = sorted(reference)
    (out / names[0]).unlink()
    (out / names[1]).write_bytes((out / names[1]).read_bytes()[:50])  # as a non-atomic writer could leave
    manifests = _sample_all(trained, small_demo_csv, out, 1)
    assert _digests(out) == reference
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".png") == ["sampling.json"]  # no temporary files
    gather_samples(trained[1], out, manifests, tmp_path / "manifest.csv")


def test_gather_refuses_an_incomplete_set(trained, small_demo_csv, tmp_path):
    out = tmp_path / "images"
    manifests = _sample_all(trained, small_demo_csv, out, 2)
    next(out.glob("*.png")).unlink()
    with pytest.raises(ValueError, match=r"4 generated images for 4 test pairs: 1 image\(s\) are missing"):
        gather_samples(trained[1], out, manifests, tmp_path / "manifest.csv")
    with pytest.raises(ValueError, match="in no shard manifest"):
        gather_samples(trained[1], out, manifests[:1], tmp_path / "manifest.csv")


def test_names_seeds_and_batches():
    assert output_name("a/fashionX01_1front.jpg", "fashionX01_2side.jpg") == "fashionX01_1front_2_fashionX01_2side.png"
    assert pair_seed(0, "a", "b") == pair_seed(0, "a", "b") != pair_seed(1, "a", "b")
    assert [list(b) for b in shard_batches(7, 2, 1, 3)] == [[2, 3]]
    assert [list(b) for b in shard_batches(7, 2, 0, 3)] == [[0, 1], [6]]
    with pytest.raises(ValueError, match="shard must be in"):
        shard_batches(7, 2, 3, 3)


def test_sample_cli_writes_a_manifest(run_cli, trained, small_demo_csv, tmp_path):
    config, index, skeletons, model = trained
    index.save(tmp_path / "index")
    demo = json.loads(config.experiments.demo.model_dump_json())
    result = run_cli(
        "sample", "--dataset", "demo", "--root", small_demo_csv, "--model", model, "--index", tmp_path / "index",
        "--poses", skeletons.cache_dir, "--out", tmp_path / "images", "--shard", "1", "--num-shards", "2",
        "--manifest", tmp_path / "shard-1.csv", "--config-json", json.dumps({"experiments": {"demo": demo}}),
    )  # fmt: skip
    assert result.code == 0
    manifest = (tmp_path / "shard-1.csv").read_text().splitlines()
    assert manifest[0] == "source,target,file,seed" and len(manifest) == 2  # batch size 3: shard 1 has pair 3
    assert len(pairs_to_sample(DatasetIndex.load(tmp_path / "index"))) == 4


def test_images_of_another_model_or_setting_are_never_taken_as_done(trained, small_demo_csv, tmp_path):
    config, index, skeletons, model = trained
    out = tmp_path / "images"
    _sample_all(trained, small_demo_csv, out, 1)
    other = config.experiments.demo.sample.model_copy(update={"steps": 3})
    with pytest.raises(ValueError, match="pass --replace-stale"):
        sample_shard(model, index, small_demo_csv, skeletons, out, other, 0, 1)
    before = _digests(out)
    sample_shard(model, index, small_demo_csv, skeletons, out, other, 0, 1, replace_stale=True)
    after = _digests(out)
    assert before.keys() == after.keys() and before != after


def _claim(out, expected, started):
    from dnaf.sampling.run import claim_folder

    started.wait()
    claim_folder(out, expected, replace_stale=True)


def test_shards_started_together_claim_a_stale_folder_one_at_a_time(tmp_path):
    """Two processes replace 3,000 stale images at once (as shards of one sample rule do): without
    the lock one deleted files the other had listed (FileNotFoundError); with it both succeed."""
    import multiprocessing

    from dnaf.sampling.run import FINGERPRINT

    out = tmp_path / "images"
    out.mkdir()
    (out / FINGERPRINT).write_text(json.dumps({"model_sha256": "old"}))
    for i in range(3000):
        (out / f"{i}.png").write_bytes(b"x")
    expected = {"model_sha256": "new", "sample": {}}
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    workers = [context.Process(target=_claim, args=(out, expected, started)) for _ in range(2)]
    for worker in workers:
        worker.start()
    started.set()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert not list(out.glob("*.png")) and json.loads((out / FINGERPRINT).read_text()) == expected
