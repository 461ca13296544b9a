"""Identifiers of the weights a metric used, for the protocol record of metrics.json."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_id(path: Path) -> str:
    """``<file name> sha256:<first 16 hex digits>`` of a local weights file."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{Path(path).name} sha256:{digest.hexdigest()[:16]}"


def torchvision_id(weights) -> str:
    """``torchvision <file name>`` of a torchvision weights enum member (its file name carries
    the hash prefix torchvision checks downloads against)."""
    return f"torchvision {weights.url.rsplit('/', 1)[-1]}"


RANDOM_WEIGHTS_KEY = "dnaf_random_weights"
"""Safetensors metadata key that marks a weights file as seeded random (rehearsals, tests)."""


def random_weights_note(path: Path | None) -> str | None:
    """The note of a weights file written with random values, None for real weights."""
    if path is None or not Path(path).is_file():
        return None
    from safetensors import safe_open

    with safe_open(path, framework="pt") as handle:
        return (handle.metadata() or {}).get(RANDOM_WEIGHTS_KEY)


def write_random_weights(inception: Path, alexnet: Path, seed: int = 0) -> None:
    """torchvision's Inception-v3 and AlexNet state dicts with seeded random values, as
    safetensors files marked random (numbers computed with them are flagged as not meaningful):
    the real weight formats for a rehearsal where the ImageNet weights cannot be downloaded."""
    import torch
    import torchvision
    from safetensors.torch import save

    from dnaf.io.atomic import atomic_write_bytes

    for name, build, path in (
        ("inception_v3", _calibrated_inception, inception),
        ("alexnet", torchvision.models.alexnet, alexnet),
    ):
        torch.manual_seed(seed)
        state = {key: value.contiguous() for key, value in build().state_dict().items()}
        note = (
            f"seeded random {name} weights (seed {seed}), not ImageNet's: numbers computed with them are not meaningful"
        )
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(path), save(state, metadata={RANDOM_WEIGHTS_KEY: note}))


def _calibrated_inception():
    """A random Inception-v3 whose BatchNorm statistics are measured on random images: with the
    initial ones (mean 0, variance 1) its activations grow to ~1e9 and every covariance is
    numerically singular; calibrated, its features have unit scale, like the real network's."""
    import torch
    import torchvision

    net = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the calibration batches
    net.train()
    with torch.no_grad():
        for _ in range(4):
            net(torch.rand(8, 3, 299, 299) * 2 - 1)
    return net.eval()
