"""metrics.json from generated folders: input checks, naming conventions, FID with its cache,
aggregation of shard scores, the copy-source baseline, tables, grids and the HTML report."""

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import yaml
from PIL import Image

from dnaf.config import Config
from dnaf.core.errors import UsageError
from dnaf.data.load import inspect_dataset
from dnaf.io.images import load_rgb
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.fid import FidExtractor
from dnaf.metrics.inputs import PRESETS, EvaluationInputError, check_generated, match_folder, pair_stems
from dnaf.metrics.protocols import get_protocol
from dnaf.sampling.shards import pairs_to_sample

REPO = Path(__file__).resolve().parents[1]
SIZE = tuple(Config().datasets.demo.image_size)
OFFLINE = EvaluateConfig(allow_download=False)


@pytest.fixture(scope="module")
def demo(small_demo_csv):
    index, log = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    assert not log.errors
    return index, small_demo_csv


def _noisy_truth(index, root, target, seed, shape=None):
    truth = load_rgb(root / index.images.at[target, "path"])
    noise = np.random.default_rng(seed).integers(-30, 30, truth.shape)
    image = np.clip(truth.astype(int) + noise, 0, 255).astype(np.uint8)
    if shape is not None:
        image = np.asarray(Image.fromarray(image).resize((shape[1], shape[0]), Image.BICUBIC))
    return image


def write_generated(folder, index, root, pattern, suffix=".png", shape=None):
    """One noisy copy of the ground truth per test pair, named under ``pattern``."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = pairs_to_sample(index)
    for k, (stem, (_, target)) in enumerate(pair_stems(pairs, pattern).items()):
        Image.fromarray(_noisy_truth(index, root, target, k, shape)).save(folder / f"{stem}{suffix}")
    return pairs


def toy_features(files, size=SIZE, resize="pil-bicubic"):
    """A stand-in for Inception: per-channel mean, std and quartiles at the evaluation size."""
    from dnaf.metrics.resizing import load_unit

    rows = []
    for path in files:
        pixels = load_unit(path, size, resize).reshape(-1, 3)
        rows.append(np.concatenate([pixels.mean(0), pixels.std(0), *np.percentile(pixels, [25, 75], axis=0)]))
    return np.array(rows)


@pytest.fixture
def toy_fid(monkeypatch):
    """Replace the Inception extractor by toy_features; counts the images it is given."""
    calls = []

    def load(config, size, progress=True):
        def features(files, resize):
            calls.append(len(files))
            return toy_features(files, size, resize)

        return FidExtractor(get_protocol(config.protocol), "toy features", features)

    monkeypatch.setattr("dnaf.metrics.evaluation.load_fid_extractor", load)
    monkeypatch.setattr("dnaf.commands.evaluate.load_fid_extractor", load, raising=False)
    return calls


def independent_fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def test_auto_naming_understands_each_convention(demo, tmp_path):
    index, root = demo
    for name, pattern in PRESETS.items():
        pairs = write_generated(tmp_path / name, index, root, pattern, suffix=".jpg" if name == "cfld" else ".png")
        manifest, used = match_folder(tmp_path / name, pairs)
        assert used == pattern and len(manifest) == len(pairs)
        pairs_seen = set(zip(manifest["source"], manifest["target"], strict=True))
        assert pairs_seen == set(zip(pairs["source"], pairs["target"], strict=True))
        assert match_folder(tmp_path / name, pairs, name)[1] == pattern
    custom = "{target}__from__{source}"
    pairs = write_generated(tmp_path / "custom", index, root, custom)
    assert len(match_folder(tmp_path / "custom", pairs, custom)[0]) == len(pairs)
    with pytest.raises(EvaluationInputError, match="no file is named after a test pair"):
        match_folder(tmp_path / "custom", pairs)
    with pytest.raises(UsageError, match="neither a preset"):
        match_folder(tmp_path / "custom", pairs, "{source}-only")


def test_every_mismatch_is_reported_at_once(demo, tmp_path):
    index, root = demo
    folder = tmp_path / "gen"
    expected = write_generated(folder, index, root, PRESETS["dnaf"])
    manifest, _ = match_folder(folder, expected)
    check_generated(expected, manifest, folder, SIZE)  # the clean folder passes

    first, second, third = manifest["file"].iloc[:3]
    (folder / first).unlink()  # a missing image
    (folder / second).write_bytes(b"not a png")  # an unreadable one
    Image.new("RGB", (40, 60)).save(folder / third)  # another size
    Image.new("RGB", (SIZE[1], SIZE[0])).save(folder / "stray.png")  # belongs to no pair
    manifest, _ = match_folder(folder, expected)
    manifest = pd.concat([manifest, pd.DataFrame([{"source": "x.jpg", "target": "y.jpg", "file": "stray.png"}])])
    with pytest.raises(EvaluationInputError) as caught:
        check_generated(expected, manifest, folder, SIZE)
    text = str(caught.value)
    assert len(caught.value.problems) == 4, text
    assert "1 test pair(s) have no generated image" in text and Path(first).stem.split("_2_")[0] in text
    assert "1 image(s) are for pairs that are not test pairs: x.jpg -> y.jpg" in text
    assert f"1 image(s) are missing or unreadable: {second}" in text
    assert "2 different sizes" in text and f"60x40: 1 e.g. {third}" in text
    with pytest.raises(EvaluationInputError, match=f"{len(expected) - 1} generated images for {len(expected)} test"):
        check_generated(expected, manifest.iloc[:-1], folder, SIZE)


def test_wrong_aspect_ratio_and_unlisted_files(demo, tmp_path):
    index, root = demo
    folder = tmp_path / "square"
    expected = write_generated(folder, index, root, PRESETS["dnaf"], shape=(SIZE[0], SIZE[0]))
    manifest, _ = match_folder(folder, expected)
    with pytest.raises(EvaluationInputError, match="another aspect ratio than the evaluation size"):
        check_generated(expected, manifest, folder, SIZE)
    # a preset whose peer squeezed its outputs (PIDM's 256x256) scores them, with a warning
    squeezed, warnings = check_generated(expected, manifest, folder, SIZE, distort=True)
    assert squeezed == (SIZE[0], SIZE[0]) and "resizing distorts them" in warnings[0]
    half = write_generated(tmp_path / "half", index, root, PRESETS["dnaf"], shape=(SIZE[0] // 2, SIZE[1] // 2))
    manifest, _ = match_folder(tmp_path / "half", half)
    assert check_generated(half, manifest, tmp_path / "half", SIZE) == ((SIZE[0] // 2, SIZE[1] // 2), [])
    with pytest.raises(EvaluationInputError, match=r"1 image file\(s\) in the folder belong to no test pair"):
        check_generated(half, manifest.iloc[1:], tmp_path / "half", SIZE)


def test_metrics_json_fid_equals_an_independent_computation(demo, tmp_path, toy_fid):
    from dnaf.metrics.evaluation import Evaluation, evaluate
    from dnaf.metrics.real_stats import load_statistics, real_set

    index, root = demo
    folder = tmp_path / "gen"
    expected = write_generated(folder, index, root, PRESETS["pidm"])
    manifest, _ = match_folder(folder, expected)
    run = Evaluation("demo", "toy", index, root, folder, manifest)
    cache = tmp_path / "fid" / "real.safetensors"
    document, scores = evaluate(run, OFFLINE, SIZE, cache)

    _, real_files = real_set(index, root, get_protocol("cfld"))
    fake_files = [folder / f for f in sorted(manifest["file"])]
    assert document["fid"] == pytest.approx(
        independent_fid(toy_features(real_files), toy_features(fake_files, resize="torch-bicubic-antialias")), rel=1e-6
    )
    assert toy_fid == [len(real_files), len(fake_files)]
    assert document["counts"] == {"test_pairs": len(expected), "generated": len(expected), "lpips": None,
                                  "fid_real": len(real_files), "fid_generated": len(expected)}  # fmt: skip
    assert document["meaningful"] and document["protocol"]["name"] == "cfld"
    assert document["ssim"] == pytest.approx(scores["ssim"].mean()) and 0.3 < document["ssim"] < 1
    assert document["lpips"] is None and "downloads are off" in document["unavailable"]["lpips"]
    assert "fid" not in document["unavailable"] and document["weights"]["inception"] == "toy features"
    jsonschema.validate(document, yaml.safe_load((REPO / "workflow/schemas/metrics.schema.yaml").read_text()))

    again, _ = evaluate(run, OFFLINE, SIZE, cache)  # the real set comes from the cache
    assert toy_fid[2:] == [len(fake_files)] and again["fid"] == pytest.approx(document["fid"])
    assert load_statistics(cache).record["images"] == len(real_files)
    clean = EvaluateConfig(allow_download=False, protocol="clean")
    evaluate(run, clean, SIZE, cache)  # another feature extractor: the cache does not fit, recomputed
    assert toy_fid[3:] == [len(real_files), len(fake_files)]
    assert load_statistics(cache).record["extractor"] == "clean-fid"


def test_unavailable_weights_give_null_with_reason_and_fix(demo, tmp_path):
    from dnaf.metrics.evaluation import Evaluation, evaluate

    index, root = demo
    folder = tmp_path / "gen"
    manifest, _ = match_folder(folder, write_generated(folder, index, root, PRESETS["dnaf"]))
    document, _ = evaluate(Evaluation("demo", "x", index, root, folder, manifest), OFFLINE, SIZE, tmp_path / "c")
    assert document["fid"] is None and document["lpips"] is None
    assert "Fix:" in document["unavailable"]["fid"] and "Fix:" in document["unavailable"]["lpips"]
    assert document["psnr"] > 10 and document["counts"]["fid_real"] is None
    jsonschema.validate(document, yaml.safe_load((REPO / "workflow/schemas/metrics.schema.yaml").read_text()))


def test_cli_evaluate_and_aggregate_agree(demo, tmp_path, run_cli, toy_fid):
    index, root = demo
    index.save(tmp_path / "index")
    folder = tmp_path / "gen"
    write_generated(folder, index, root, PRESETS["nted"])
    offline = '{"experiments": {"demo": {"evaluate": {"allow_download": false}}}}'
    common = ["--dataset", "demo", "--root", root, "--config-json", offline, "--stats-cache", tmp_path / "real.st"]
    result = run_cli("evaluate", *common, "--generated", folder, "--method", "NTED-named", "--out", tmp_path / "e.json")
    assert result.code == 0, result.text
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert evaluated["method"] == "NTED-named" and (tmp_path / "e_scores.csv").is_file()

    # the workflow's route: shard manifests -> per-shard scores -> aggregate
    manifest, _ = match_folder(folder, pairs_to_sample(index))
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    shards = []
    for k, part in enumerate(np.array_split(np.arange(len(manifest)), 2)):
        manifest.iloc[part].to_csv(tmp_path / f"m{k}.csv", index=False)
        score = run_cli("score", "--dataset", "demo", "--root", root, "--config-json", offline, "--index",
                        tmp_path / "index", "--samples", folder, "--manifest", tmp_path / f"m{k}.csv", "--out",
                        tmp_path / f"s{k}.csv")  # fmt: skip
        assert score.code == 0, score.text
        shards.append(tmp_path / f"s{k}.csv")
    aggregate = ["aggregate", *common, "--index", tmp_path / "index", "--samples", folder, "--manifest",
                 tmp_path / "manifest.csv", "--out", tmp_path / "a.json"]  # fmt: skip
    assert run_cli(*aggregate, "--scores", *shards).code == 0
    aggregated = json.loads((tmp_path / "a.json").read_text())
    for key in ("fid", "ssim", "ssim_256", "psnr", "colour_error", "texture_distance", "stripe_period_error",
                "stripe_orientation_error", "hf_energy_ratio"):  # fmt: skip
        assert aggregated[key] == pytest.approx(evaluated[key]), key
    assert aggregated["colour_error_parts"] == pytest.approx(evaluated["colour_error_parts"])
    assert set(aggregated["texture_parts"]) == set(evaluated["texture_parts"]) == {"upper", "lower"}
    for garment, values in evaluated["texture_parts"].items():
        assert aggregated["texture_parts"][garment] == pytest.approx(values), garment
    assert aggregated["unavailable"]["lpips"] == evaluated["unavailable"]["lpips"]

    refused = run_cli(*aggregate, "--scores", shards[0])  # a shard's scores are missing
    assert refused.code == 1 and "have no scores" in refused.text
    (folder / manifest["file"].iloc[0]).unlink()
    refused = run_cli("evaluate", *common, "--generated", folder, "--out", tmp_path / "x.json")
    assert refused.code == 1 and "1 test pair(s) have no generated image" in refused.text
    assert not (tmp_path / "x.json").exists()


def test_copy_source_grid_table_and_report(demo, tmp_path, run_cli):
    index, root = demo
    index.save(tmp_path / "index")
    offline = '{"experiments": {"demo": {"evaluate": {"allow_download": false}}}}'
    common = ["--dataset", "demo", "--root", root, "--config-json", offline]
    copies = tmp_path / "copy"
    assert run_cli("copy-source", *common, "--index", tmp_path / "index", "--out", copies, "--manifest",
                   tmp_path / "copy.csv").code == 0  # fmt: skip
    manifest = pd.read_csv(tmp_path / "copy.csv", dtype=str)
    row = manifest.iloc[0]
    np.testing.assert_array_equal(
        load_rgb(copies / row["file"]), load_rgb(root / index.images.at[row["source"], "path"])
    )

    generated = tmp_path / "gen"
    write_generated(generated, index, root, PRESETS["dnaf"])
    for folder, method in ((copies, "copy-source"), (generated, "noisy truth")):
        result = run_cli("evaluate", *common, "--generated", folder, "--method", method, "--stats-cache",
                         tmp_path / "real.st", "--out", tmp_path / f"{folder.name}.json")  # fmt: skip
        assert result.code == 0, result.text
    noisy, copied = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("gen", "copy"))
    assert noisy["ssim"] > copied["ssim"] and noisy["psnr"] > copied["psnr"]
    # zero-mean noise keeps the part colours (clipping aside); the copy wears them in other places
    assert noisy["colour_error"] < 0.02 < copied["colour_error"]

    assert run_cli("compare", "--metrics", tmp_path / "gen.json", tmp_path / "copy.json", "--out",
                   tmp_path / "table.md").code == 0  # fmt: skip
    table = (tmp_path / "table.md").read_text()
    assert f"| noisy truth | n/a | n/a | {noisy['ssim']:.4f} |" in table and "| copy-source |" in table
    # zero-mean noise adds its own energy to every frequency: more high-frequency energy than the truth's
    assert noisy["hf_energy_ratio"] > 1
    texture = (f"{noisy['texture_distance']:.3f} | {noisy['stripe_period_error']:.3f} | "
               f"{noisy['stripe_orientation_error']:.1f} | {noisy['hf_energy_ratio']:.3f}")  # fmt: skip
    background = f"{noisy['background_std']:.2f}"
    assert f"| {noisy['colour_error']:.4f} | {background} | {texture} | {noisy['counts']['generated']} |" in table
    # uniform noise on [-30, 29] in each channel: luminance std sqrt(299.9 * sum(w^2)) = 11.6 at most (clipping
    # at 255 near the light background only lowers it); the truth's own background is nearly flat
    assert 3 * noisy["background_std_truth"] < noisy["background_std"] <= 11.6
    assert "| HF energy ratio (→1) | images |" in table
    assert "FID n/a:" in table

    poses = tmp_path / "poses"
    grid_args = ["compare-grid", *common, "--index", tmp_path / "index", "--poses", poses, "--manifest",
                 tmp_path / "copy.csv", "--samples", f"copy={copies}", f"noisy={generated}", "--count", "3",
                 "--out", tmp_path / "grid.png"]  # fmt: skip
    assert run_cli(*grid_args).code == 0
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    pad, label = 2, 14
    assert grid.shape == (label + 3 * (SIZE[0] + pad) + pad, 5 * (SIZE[1] + pad) + pad, 3)

    assert run_cli("report", "--metrics", tmp_path / "gen.json", tmp_path / "copy.json", "--picture",
                   f"Comparison={tmp_path / 'grid.png'}", f"Missing={tmp_path / 'none.png'}", "--out",
                   tmp_path / "report.html").code == 0  # fmt: skip
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and "<figcaption>Comparison</figcaption>" in page
    assert "Missing" not in page and f"<td>{noisy['ssim']:.4f}</td>" in page and "bicubic-antialias" in page
