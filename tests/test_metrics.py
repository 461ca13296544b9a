"""Pixel metrics and the Frechet distance against hand computations and independent code."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

from dnaf.metrics.frechet import feature_statistics, frechet_distance
from dnaf.metrics.pixel import psnr, ssim, ssim_256

rng = np.random.default_rng(0)
A = rng.integers(0, 256, (128, 88, 3), dtype=np.uint8)
B = np.clip(A.astype(int) + rng.integers(-40, 40, A.shape), 0, 255).astype(np.uint8)


def test_identical_images():
    assert ssim(A, A) == pytest.approx(1.0)
    assert ssim_256(A, A) == pytest.approx(1.0)
    assert psnr(A, B) < 100


def test_psnr_by_hand():
    mse = np.mean((A / 255.0 - B / 255.0) ** 2)
    assert psnr(A, B) == pytest.approx(10 * np.log10(1 / mse))


def test_ssim_of_flat_images_by_hand():
    # flat images: no variance, SSIM is the luminance term (2 a b + C1) / (a^2 + b^2 + C1)
    a, b = np.full((64, 64, 3), 100, np.uint8), np.full((64, 64, 3), 150, np.uint8)
    c1 = (0.01 * 1.0) ** 2
    x, y = 100 / 255, 150 / 255
    assert ssim(a, b) == pytest.approx((2 * x * y + c1) / (x * x + y * y + c1), rel=1e-9)


def test_ssim_variants_match_the_published_settings():
    assert ssim(A, B) == pytest.approx(
        structural_similarity(A / 255, B / 255, data_range=1, win_size=51, channel_axis=2)
    )
    expected = structural_similarity(
        A.astype(float), B.astype(float), gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=float(B.max()) - float(B.min()), channel_axis=2,
    )  # fmt: skip
    assert ssim_256(A, B) == pytest.approx(expected)
    assert ssim_256(A, B, sigma=1.2) != pytest.approx(expected)
    with pytest.raises(ValueError, match="one size"):
        ssim(A, B[:64])


def test_frechet_distance_against_a_direct_computation():
    x = rng.normal(size=(500, 8))
    y = rng.normal(loc=0.5, scale=1.3, size=(400, 8))
    mu1, s1 = feature_statistics(x)
    mu2, s2 = feature_statistics(y)
    # independent route: eigen-decomposition of the symmetric form sqrt(S1) S2 sqrt(S1)
    w, v = np.linalg.eigh(s1)
    root = v @ np.diag(np.sqrt(w)) @ v.T
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s2 @ root), 0, None)).sum()
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-6)


@pytest.fixture
def alexnet_file(tmp_path):
    import torchvision
    from safetensors.torch import save_file

    torch.manual_seed(0)  # random ImageNet-shaped weights: a consistency test, never a reported value
    net = torchvision.models.alexnet(weights=None)
    path = tmp_path / "alexnet.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, path)
    return path, net


def _reference_lpips(net, lins, x, y):
    """LPIPS by hand: AlexNet ReLU outputs 1-5, unit-normalised over channels, squared difference
    weighted by the linear heads, averaged over space, summed over layers."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    taps = {1, 4, 7, 9, 11}
    total = 0
    fx, fy = (x - shift) / scale, (y - shift) / scale
    k = 0
    for i, layer in enumerate(net.features[:12]):
        fx, fy = layer(fx), layer(fy)
        if i in taps:
            nx = fx / (fx.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            ny = fy / (fy.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + lins[k].model((nx - ny) ** 2).mean(dim=(2, 3))
            k += 1
    return total.flatten()


def test_lpips_equals_a_hand_computation_with_the_same_weights(alexnet_file):
    from dnaf.metrics.perceptual import load_lpips, lpips_distance

    path, net = alexnet_file
    model = load_lpips(path, allow_download=False)
    x = torch.rand(2, 3, 64, 44) * 2 - 1
    y = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    ours = lpips_distance(model, x, y)
    with torch.no_grad():
        expected = _reference_lpips(net.eval(), model.lins, x, y)
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-6)
    assert lpips_distance(model, x, x).abs().max() < 1e-6


def test_lpips_without_weights_is_unavailable_with_the_fix(tmp_path):
    from dnaf.metrics.perceptual import MetricUnavailable, load_lpips

    with pytest.raises(MetricUnavailable, match="does not exist"):
        load_lpips(tmp_path / "missing.safetensors")
    with pytest.raises(MetricUnavailable, match="downloads are off"):
        load_lpips(None, allow_download=False)


def _write_images(folder, count, seed):
    from PIL import Image

    folder.mkdir()
    g = np.random.default_rng(seed)
    for i in range(count):
        Image.fromarray(g.integers(0, 256, (64, 44, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return sorted(folder.glob("*.png"))


def _toy_extractor(images):
    """A fixed random projection of clean-fid's 299x299 0..255 input: a stand-in for Inception."""
    g = torch.Generator().manual_seed(0)
    pooled = F.adaptive_avg_pool2d(images.float() / 255, 4).flatten(1)  # (B, 48)
    return pooled @ torch.randn(pooled.shape[1], 6, generator=g)


def test_clean_protocol_with_an_injected_extractor_equals_clean_fid(tmp_path):
    from cleanfid.fid import compute_fid

    from dnaf.metrics.fid import clean_features

    real, fake = _write_images(tmp_path / "real", 24, 1), _write_images(tmp_path / "fake", 20, 2)
    ours = frechet_distance(
        *feature_statistics(clean_features(real, _toy_extractor, (64, 44), "pil-bicubic")),
        *feature_statistics(clean_features(fake, _toy_extractor, (64, 44), "pil-bicubic")),
    )
    theirs = compute_fid(
        str(tmp_path / "real"), str(tmp_path / "fake"), mode="clean", num_workers=0, device=torch.device("cpu"),
        custom_feat_extractor=_toy_extractor, verbose=False,
    )  # fmt: skip
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_score_images_per_pair(tmp_path, alexnet_file):
    import pandas as pd
    from PIL import Image

    from dnaf.data.index import DatasetIndex, make_images_table
    from dnaf.metrics.config import EvaluateConfig
    from dnaf.metrics.scoring import score_images

    g = np.random.default_rng(4)
    records = []
    for name in ("a.jpg", "b.jpg"):
        Image.fromarray(g.integers(0, 256, (128, 88, 3), dtype=np.uint8)).save(tmp_path / name.replace("jpg", "png"))
        records.append({"name": name, "split": "test", "identity": "x", "path": name.replace("jpg", "png"),
                        "keypoints": np.full((18, 2), np.nan)})  # fmt: skip
    index = DatasetIndex(make_images_table(records), pd.DataFrame())
    samples = tmp_path / "samples"
    samples.mkdir()
    truth_b = np.asarray(Image.open(tmp_path / "b.png"))
    Image.fromarray(truth_b).resize((44, 64)).save(samples / "a_2_b.png")  # half size: resized back up
    manifest = pd.DataFrame({"source": ["a.jpg"], "target": ["b.jpg"], "file": ["a_2_b.png"]})
    config = EvaluateConfig(lpips_weights=alexnet_file[0], allow_download=False)
    scores, reason = score_images(index, tmp_path, samples, manifest, (128, 88), config)
    assert reason is None and list(scores["file"]) == ["a_2_b.png"]
    # the default protocol (cfld) resizes generated images as CFLD's test script: torch bicubic with
    # antialias on [0, 1], then * 255, clamped and truncated to 8 bits
    small = torch.from_numpy(np.asarray(Image.open(samples / "a_2_b.png")).copy()).permute(2, 0, 1)[None] / 255
    resized = F.interpolate(small.float(), size=(128, 88), mode="bicubic", antialias=True)
    upscaled = (resized * 255).clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()
    assert scores.at[0, "psnr"] == pytest.approx(psnr(truth_b, upscaled))
    assert scores.at[0, "ssim"] == pytest.approx(ssim(truth_b, upscaled))
    assert scores.at[0, "lpips"] > 0
    no_lpips, reason = score_images(index, tmp_path, samples, manifest, (128, 88), EvaluateConfig(allow_download=False))
    assert np.isnan(no_lpips.at[0, "lpips"]) and "downloads are off" in reason
    assert no_lpips.at[0, "psnr"] == pytest.approx(scores.at[0, "psnr"])
