"""The evaluation protocols: FID as the peers feed Inception, and each preset's choices moving the
numbers the way an independent computation of that choice says."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from dnaf.data.index import DatasetIndex, make_images_table
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.fid import FidExtractor
from dnaf.metrics.frechet import FidError, feature_statistics, frechet_distance
from dnaf.metrics.protocols import PROTOCOLS, get_protocol
from dnaf.metrics.resizing import resize_unit

SIZE = (64, 56)
COUNT = 130  # past PCDMs' FID batch of 128, so every preset keeps some images and drops some


def _independent_inception_features(net, images: torch.Tensor) -> torch.Tensor:
    """The peers' InceptionV3 wrapper written out: [0, 1] images, bilinear to 299, each channel
    mapped by x * (std / 0.5) + (mean - 0.5) / 0.5, the blocks Conv2d_1a ... Mixed_7c with two
    3x3 stride-2 max pools, a 1x1 average pool."""
    x = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
    x = torch.cat(
        [x[:, 0:1] * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
         x[:, 1:2] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
         x[:, 2:3] * (0.225 / 0.5) + (0.406 - 0.5) / 0.5], dim=1,
    )  # fmt: skip
    blocks = [
        net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, torch.nn.MaxPool2d(3, 2), net.Conv2d_3b_1x1,
        net.Conv2d_4a_3x3, torch.nn.MaxPool2d(3, 2), net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a,
        net.Mixed_6b, net.Mixed_6c, net.Mixed_6d, net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c,
        torch.nn.AdaptiveAvgPool2d(1),
    ]  # fmt: skip
    for block in blocks:
        x = block(x)
    return x.flatten(1)


def _independent_fid(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance through the symmetric form sqrt(S1) S2 sqrt(S1) (eigen-decompositions)."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    root = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s2 @ root), 0, None)).sum()
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt)


def test_torchvision_fid_equals_the_peers_formula_on_random_weights(tmp_path):
    import torchvision

    from dnaf.metrics.fid import community_features, community_inception
    from dnaf.metrics.weights import random_weights_note, write_random_weights

    weights = tmp_path / "inception_v3-random-seed0.safetensors"
    write_random_weights(weights, tmp_path / "alexnet.safetensors", seed=0)
    assert "not meaningful" in random_weights_note(weights)
    from safetensors.torch import load_file

    net = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    net.load_state_dict(load_file(weights))  # the same weights in torchvision's own model
    net.eval()
    g = np.random.default_rng(0)
    files = []
    for i in range(6):
        base = g.integers(0, 256, (1, 1, 3))  # a coloured picture with texture, not pure noise
        image = np.clip(base + g.normal(0, 40, (64, 44, 3)), 0, 255).astype(np.uint8)
        files.append(tmp_path / f"{i}.png")
        Image.fromarray(image).save(files[-1])
    model, identifier = community_inception(weights, allow_download=False)
    assert identifier.startswith("inception_v3-random-seed0.safetensors sha256:")
    ours = community_features(files, model, (64, 44), "none", batch_size=4)
    pixels = torch.stack([torch.from_numpy(np.asarray(Image.open(f)).copy()).permute(2, 0, 1) for f in files]) / 255
    with torch.no_grad():
        expected = _independent_inception_features(net, pixels.float()).double().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    with torch.no_grad():  # the old input, 2x - 1, gives other features: the test can tell them apart
        wrong = net(2 * F.interpolate(pixels.float(), size=(299, 299), mode="bilinear") - 1)
    assert not np.allclose(ours[:, :8], wrong[:, :8].double().numpy(), rtol=1e-2)
    fid = frechet_distance(*feature_statistics(ours[:3]), *feature_statistics(ours[3:]))
    assert fid == pytest.approx(_independent_fid(expected[:3], expected[3:]), rel=1e-3)


def test_resizing_routes():
    g = np.random.default_rng(1)
    step = np.zeros((16, 12, 3), np.uint8)
    step[:, 6:] = 255  # a hard edge: cubic interpolation overshoots
    pil = resize_unit(step, (32, 24), "pil-bicubic")
    torch_route = resize_unit(step, (32, 24), "torch-bicubic-antialias")
    cubic = resize_unit(step, (32, 24), "cv2-cubic")
    linear = resize_unit(step, (32, 24), "cv2-bilinear")
    import cv2

    np.testing.assert_array_equal(cubic, cv2.resize(step.astype(np.float32), (24, 32), interpolation=cv2.INTER_CUBIC)
                                  / np.float32(255))  # fmt: skip
    assert cubic.min() < 0 and cubic.max() > 1  # PCDMs' float route keeps the overshoot
    assert 0 <= pil.min() and pil.max() <= 1 and 0 <= torch_route.min() and torch_route.max() <= 1
    assert 0 <= linear.min() and linear.max() <= 1  # bilinear cannot overshoot
    # torch's route ends on 8 bits, truncated (CFLD: clamp(0, 255).to(uint8))
    assert np.array_equal(torch_route * 255, np.round(torch_route * 255))
    exact = F.interpolate(torch.from_numpy(step).permute(2, 0, 1)[None].float() / 255, size=(32, 24), mode="bicubic",
                          antialias=True)[0].permute(1, 2, 0).numpy()  # fmt: skip
    np.testing.assert_allclose(torch_route, np.floor(np.clip(exact * 255, 0, 255)) / 255, atol=1e-7)
    assert len({pil.tobytes(), torch_route.tobytes(), cubic.tobytes(), linear.tobytes()}) == 4
    image = g.integers(0, 256, (32, 24, 3), dtype=np.uint8)
    for method in ("pil-bicubic", "torch-bicubic-antialias", "cv2-bilinear", "cv2-cubic", "none"):
        np.testing.assert_array_equal(resize_unit(image, (32, 24), method), image / 255.0)  # same size: identity
    with pytest.raises(ValueError, match="does not resize"):
        resize_unit(step, (32, 24), "none")


@pytest.fixture(scope="module")
def scored_set(tmp_path_factory):
    """COUNT training and COUNT test pictures, one generated picture per test pair (the truth with
    noise, or half-size), and an AlexNet weights file of seeded random values."""
    from dnaf.metrics.weights import write_random_weights

    root = tmp_path_factory.mktemp("set")
    g = np.random.default_rng(2)
    records, pairs = [], []
    for split in ("train", "test"):
        (root / split).mkdir()
        for i in range(COUNT):
            name = f"{split}{i:03d}.png"
            base = g.integers(40, 216, (1, 1, 3))
            picture = np.clip(base + g.normal(0, 25, (*SIZE, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(picture).save(root / split / name)
            records.append({"name": name, "split": split, "identity": f"{split}{i // 2}", "path": f"{split}/{name}",
                            "keypoints": np.full((18, 2), np.nan)})  # fmt: skip
    for i in range(0, COUNT, 2):
        pairs += [(f"test{i:03d}.png", f"test{i + 1:03d}.png"), (f"test{i + 1:03d}.png", f"test{i:03d}.png")]
    index = DatasetIndex(
        make_images_table(records), pd.DataFrame(pairs, columns=["source", "target"]).assign(split="test")
    )
    full, half = root / "generated", root / "half"
    full.mkdir(), half.mkdir()
    rows = []
    for source, target in pairs:
        truth = np.asarray(Image.open(root / "test" / target)).astype(int)
        made = np.clip(truth + g.normal(0, 20, truth.shape), 0, 255).astype(np.uint8)
        file = f"{source[:-4]}_2_{target[:-4]}.png"
        Image.fromarray(made).save(full / file)
        Image.fromarray(made).resize((SIZE[1] // 2, SIZE[0] // 2), Image.Resampling.BOX).save(half / file)
        rows.append((source, target, file))
    manifest = pd.DataFrame(rows, columns=["source", "target", "file"])
    alexnet = root / "alexnet-random.safetensors"
    write_random_weights(root / "inception-random.safetensors", alexnet, seed=0)
    return index, root, manifest, alexnet


def _toy_extractor(protocol):
    """Inception stand-in: per-channel mean and std of the images as the protocol resizes them."""
    from dnaf.metrics.resizing import load_unit

    def features(files, resize):
        return np.array([np.concatenate([(u := load_unit(f, SIZE, resize)).mean((0, 1)), u.std((0, 1))])
                         for f in files])  # fmt: skip

    return FidExtractor(protocol, "toy features", features, dimension=6)


def _evaluate(monkeypatch, scored_set, protocol, folder="generated", tmp_path=None):
    from dnaf.metrics.evaluation import Evaluation, evaluate

    index, root, manifest, alexnet = scored_set
    monkeypatch.setattr(
        "dnaf.metrics.evaluation.load_fid_extractor", lambda c, s: _toy_extractor(get_protocol(c.protocol))
    )
    config = EvaluateConfig(protocol=protocol, lpips_weights=alexnet, allow_download=False)
    run = Evaluation("set", "noisy", index, root, root / folder, manifest)
    return evaluate(run, config, SIZE, tmp_path / f"{protocol}-{folder}.safetensors")


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_each_preset_against_an_independent_computation(monkeypatch, scored_set, protocol, tmp_path):
    from dnaf.metrics.perceptual import load_lpips, lpips_distance

    index, root, manifest, alexnet = scored_set
    preset = get_protocol(protocol)
    document, scores = _evaluate(monkeypatch, scored_set, protocol, tmp_path=tmp_path)
    assert document["protocol"]["name"] == protocol and document["protocol"]["ssim_sigma"] == preset.ssim_sigma
    assert not document["meaningful"] and any("seeded random alexnet" in w for w in document["warnings"])

    # FID: the real and the generated sets lose their last incomplete batch where the peer drops it
    kept = COUNT // preset.fid_batch * preset.fid_batch if preset.fid_drop_last else COUNT
    assert document["counts"]["fid_real"] == kept and document["counts"]["fid_generated"] == kept
    real = sorted((root / "train").glob("*.png"))[:kept]
    made = [root / "generated" / f for f in sorted(manifest["file"])[:kept]]
    extractor = _toy_extractor(preset)
    expected = _independent_fid(extractor.features(real, "none"), extractor.features(made, "none"))
    assert document["fid"] == pytest.approx(expected, rel=1e-6)

    # SSIM_256 with the preset's sigma, SSIM / PSNR on images padded to 256 wide for DPTN
    row = scores.iloc[0]
    truth = np.asarray(Image.open(root / "test" / row["target"])) / 255.0
    output = np.asarray(Image.open(root / "generated" / row["file"])) / 255.0
    if preset.pad_width:
        left = (preset.pad_width - SIZE[1]) // 2
        truth, output = (np.pad(x, ((0, 0), (left, preset.pad_width - SIZE[1] - left), (0, 0)), constant_values=1.0)
                         for x in (truth, output))  # fmt: skip
    assert row["ssim"] == pytest.approx(structural_similarity(truth, output, data_range=1, win_size=51, channel_axis=2))
    assert row["psnr"] == pytest.approx(peak_signal_noise_ratio(truth, output, data_range=1))
    t255, o255 = truth * 255, output * 255
    assert row["ssim_256"] == pytest.approx(structural_similarity(
        t255, o255, gaussian_weights=True, sigma=preset.ssim_sigma, use_sample_covariance=False,
        data_range=o255.max() - o255.min(), channel_axis=2))  # fmt: skip

    # LPIPS: [-1, 1], or PCDMs' [0, 1] without normalisation; its mean over the kept batches
    model = load_lpips(alexnet, allow_download=False)
    pictures = [
        np.asarray(Image.open(root / "test" / row["target"])),
        np.asarray(Image.open(root / "generated" / row["file"])),
    ]
    x, y = (torch.from_numpy(p.copy()).permute(2, 0, 1)[None].float() / 255 for p in pictures)
    if preset.lpips_input == "[-1, 1]":
        x, y = x * 2 - 1, y * 2 - 1
    assert row["lpips"] == pytest.approx(float(lpips_distance(model, x, y)), rel=1e-5)
    kept_lpips = COUNT // preset.lpips_batch * preset.lpips_batch if preset.lpips_drop_last else COUNT
    ordered = scores.sort_values("file")["lpips"]
    assert document["lpips"] == pytest.approx(ordered.iloc[:kept_lpips].mean())
    assert document["counts"]["lpips"] == kept_lpips


def test_presets_move_the_numbers_the_expected_way(monkeypatch, scored_set, tmp_path):
    documents = {
        p: _evaluate(monkeypatch, scored_set, p, tmp_path=tmp_path)[0] for p in ("cfld", "pidm", "dptn", "pcdms")
    }
    # a smaller sigma is a narrower window: noise decorrelates less, SSIM_256 of noisy copies drops
    assert documents["pidm"]["ssim_256"] < documents["cfld"]["ssim_256"]
    # DPTN's white padding adds identical columns: higher SSIM and PSNR than the same images unpadded
    assert (
        documents["dptn"]["ssim"] > documents["cfld"]["ssim"] and documents["dptn"]["psnr"] > documents["cfld"]["psnr"]
    )
    # [0, 1] into a net expecting [-1, 1] halves every difference: PCDMs' LPIPS is lower (its known flaw)
    assert documents["pcdms"]["lpips"] < documents["cfld"]["lpips"]
    assert "KNOWN FLAW" in " ".join(documents["pcdms"]["protocol"]["notes"])


def test_resizing_presets_on_half_size_outputs(monkeypatch, scored_set, tmp_path):
    from dnaf.metrics.inputs import EvaluationInputError

    index, root, manifest, _ = scored_set
    cfld, _ = _evaluate(monkeypatch, scored_set, "cfld", "half", tmp_path)
    pidm, pidm_scores = _evaluate(monkeypatch, scored_set, "pidm", "half", tmp_path)
    row = pidm_scores.iloc[0]
    import cv2

    small = np.asarray(Image.open(root / "half" / row["file"])).astype(np.float32)
    expected = cv2.resize(small, (SIZE[1], SIZE[0])) / np.float32(255)  # PIDM: cv2.resize, default bilinear
    truth = np.asarray(Image.open(root / "test" / row["target"])) / 255.0
    assert row["psnr"] == pytest.approx(peak_signal_noise_ratio(truth, expected.astype(np.float64), data_range=1))
    assert cfld["psnr"] != pytest.approx(pidm["psnr"], rel=1e-4)
    with pytest.raises(EvaluationInputError, match="does not resize"):  # GFLA's script reads images as they are
        _evaluate(monkeypatch, scored_set, "gfla", "half", tmp_path)


def test_a_failing_square_root_is_a_clear_error_and_small_sets_warn():
    g = np.random.default_rng(0)
    real = g.normal(size=(36, 5)) @ g.normal(size=(5, 64)) * 1e3  # rank 5 in 64 dimensions
    fake = g.normal(size=(6, 3)) @ g.normal(size=(3, 64)) * 1e3
    with pytest.raises(FidError) as error:
        frechet_distance(*feature_statistics(real), *feature_statistics(fake), sets="real (36) and generated (6)")
    message = str(error.value)
    assert "real (36) and generated (6)" in message and "Imaginary component" in message and "no number" in message
    from dnaf.metrics.frechet import small_set_warning

    assert "60 images, not more than the 2048" in small_set_warning("generated", 60, 2048)
    assert small_set_warning("real", 5000, 2048) is None


def test_cli_scores_one_folder_under_every_preset_and_degenerate_sets_fail_clearly(monkeypatch, scored_set, tmp_path,
                                                                                   run_cli):  # fmt: skip
    index, root, manifest, alexnet = scored_set
    index.save(tmp_path / "index")
    monkeypatch.setattr(
        "dnaf.metrics.evaluation.load_fid_extractor", lambda c, s: _toy_extractor(get_protocol(c.protocol))
    )
    evaluate = {"lpips_weights": str(alexnet), "allow_download": False}
    layer = {"datasets": {"market": {"root": str(root), "image_size": list(SIZE)}},
             "experiments": {"market": {"evaluate": evaluate}}}  # fmt: skip
    monkeypatch.chdir(tmp_path)
    common = ["--dataset", "market", "--root", root, "--config-json", json.dumps(layer), "--index", tmp_path / "index"]
    result = run_cli("evaluate", *common, "--generated", root / "generated", "--protocol", "all")
    assert result.code == 0, result.text
    table = (tmp_path / "results/market/evaluate/generated/protocols.md").read_text()
    for name in PROTOCOLS:
        document = json.loads((tmp_path / f"results/market/evaluate/generated/{name}/metrics.json").read_text())
        assert f"| {name} | {document['fid']:.3f} | {document['lpips']:.4f} | {document['ssim']:.4f} |" in table
    assert "WARNING: seeded random alexnet" in table

    def degenerate(config, size):  # features of rank 1: the covariance product has no real square root
        def features(files, resize):
            g = np.random.default_rng(len(files))
            return g.normal(size=(len(files), 1)) @ g.normal(size=(1, 64)) * 1e4 + g.normal(size=(len(files), 64))

        return FidExtractor(get_protocol(config.protocol), "degenerate", features, dimension=64)

    monkeypatch.setattr("dnaf.metrics.evaluation.load_fid_extractor", degenerate)
    result = run_cli("evaluate", *common, "--generated", root / "generated", "--protocol", "gfla", "--out",
                     tmp_path / "x.json")  # fmt: skip
    assert result.code == 1 and not (tmp_path / "x.json").exists()
    assert "the real set (128 training images) and the generated set (128 images)" in result.text, result.text


@pytest.fixture(scope="module")
def small_demo(small_demo_csv, tmp_path_factory):
    """The small demo set with a generated folder: noisy copies of the truth, 4 test pairs."""
    from dnaf.config import Config
    from dnaf.data.load import inspect_dataset
    from dnaf.metrics.inputs import PRESETS

    from .test_evaluation import write_generated

    index, _ = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    folder = tmp_path_factory.mktemp("generated") / "noisy"
    write_generated(folder, index, small_demo_csv, PRESETS["dnaf"])
    return index, small_demo_csv, folder


def test_too_few_images_for_a_preset_are_clear_errors_or_reasons(small_demo, scored_set, monkeypatch, tmp_path):
    from dnaf.metrics.evaluation import Evaluation, evaluate
    from dnaf.metrics.inputs import EvaluationInputError, match_folder
    from dnaf.sampling.shards import pairs_to_sample

    index, root, folder = small_demo
    manifest, _ = match_folder(folder, pairs_to_sample(index))
    run = Evaluation("demo", "noisy", index, root, folder, manifest)
    alexnet = scored_set[3]
    # FID unavailable (no weights): LPIPS of 4 pairs in PIDM's batches of 64 leaves none, and says so
    config = EvaluateConfig(protocol="pidm", lpips_weights=alexnet, allow_download=False)
    document, _ = evaluate(run, config, (128, 88), tmp_path / "stats")
    assert document["lpips"] is None and "drops the last incomplete batch of 64" in document["unavailable"]["lpips"]
    # with an extractor, the real set itself is too small under PIDM's batches: an error with the counts
    monkeypatch.setattr(
        "dnaf.metrics.evaluation.load_fid_extractor", lambda c, s: _toy_extractor(get_protocol(c.protocol))
    )
    with pytest.raises(EvaluationInputError, match=r"(?s)FID real set under protocol pidm.*leave 0"):
        evaluate(run, config, (128, 88), tmp_path / "stats")


def test_protocol_all_lists_the_presets_that_cannot_score_a_folder(small_demo, monkeypatch, tmp_path, run_cli):
    index, root, folder = small_demo
    index.save(tmp_path / "index")
    monkeypatch.setattr(
        "dnaf.metrics.evaluation.load_fid_extractor", lambda c, s: _toy_extractor(get_protocol(c.protocol))
    )
    monkeypatch.chdir(tmp_path)
    offline = json.dumps({"experiments": {"demo": {"evaluate": {"allow_download": False}}}})
    result = run_cli("evaluate", "--dataset", "demo", "--root", root, "--index", tmp_path / "index", "--config-json",
                     offline, "--generated", folder, "--protocol", "all")  # fmt: skip
    assert result.code == 0, result.text
    table = (tmp_path / "results/demo/evaluate/noisy/protocols.md").read_text()
    for name in ("cfld", "clean"):  # all images: they score 12 training and 4 generated images
        assert f"| {name} |" in table
    for name in ("pidm", "gfla", "dptn", "pcdms"):  # their dropped last batch leaves too few
        assert f"NOT SCORED under {name}:" in table


def test_compare_models_refuses_folders_that_are_not_models(tmp_path, run_cli):
    (tmp_path / "a").mkdir()
    result = run_cli("compare-models", tmp_path / "a", tmp_path / "missing", "--out", tmp_path / "r.json")
    assert result.code == 1 and "is not a saved DNAF model" in result.text and not (tmp_path / "r.json").exists()
