"""LPIPS (AlexNet, lpips v0.1) with the weights coming from where the user has them.

The linear heads ship inside the lpips wheel; the AlexNet ImageNet weights come from a local
safetensors file (the torchvision ``alexnet`` state dict) or, when allowed, torchvision's usual
download. When neither works the metric is unavailable, with the reason and the fix: it is
reported as null, never computed with random weights.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file

from dnaf.core.errors import DnafError

logger = logging.getLogger(__name__)
# lpips' AlexNet slices keep torchvision's feature indices: slice k holds these layers
ALEXNET_SLICES = {1: range(0, 2), 2: range(2, 5), 3: range(5, 8), 4: range(8, 10), 5: range(10, 12)}


class MetricUnavailable(DnafError):
    """A metric cannot be computed here; the message says why and how to fix it."""


def _alexnet_state(weights: Path | None, allow_download: bool) -> dict[str, torch.Tensor]:
    if weights is not None:
        if not Path(weights).is_file():
            raise MetricUnavailable(f"LPIPS: AlexNet weights file {weights} does not exist")
        return load_file(weights)
    if not allow_download:
        raise MetricUnavailable(
            "LPIPS: no AlexNet weights file configured and downloads are off. Fix: set "
            "experiments.<dataset>.evaluate.lpips_weights or allow_download: true"
        )
    import torchvision

    try:
        return torchvision.models.AlexNet_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except Exception as error:  # URLError, HTTPError, OSError: offline, proxy, disk
        raise MetricUnavailable(
            f"LPIPS: could not download torchvision's AlexNet weights ({type(error).__name__}: {error}). "
            "Fix: run once where the network is reachable (they are cached in TORCH_HOME), or save "
            "torchvision.models.alexnet(weights='IMAGENET1K_V1').state_dict() with safetensors and set "
            "experiments.<dataset>.evaluate.lpips_weights"
        ) from None


def load_lpips(weights: Path | None = None, allow_download: bool = True, device: str = "cpu"):
    """lpips.LPIPS(net='alex', version 0.1) with ImageNet AlexNet features; raises MetricUnavailable."""
    import lpips

    state = _alexnet_state(weights, allow_download)
    with warnings.catch_warnings():  # lpips passes torchvision's deprecated `pretrained` argument
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False)
    features = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] != "features":
            continue
        index = int(parts[1])
        block = next(k for k, layers in ALEXNET_SLICES.items() if index in layers)
        features[f"slice{block}.{index}.{parts[2]}"] = value
    model.net.load_state_dict(features, strict=True)  # raises when a layer is missing or extra
    return model.eval().to(device)


def lpips_weights_id(weights: Path | None) -> str:
    """What LPIPS ran with: the AlexNet weights (file or torchvision's) and lpips' linear heads."""
    import torchvision

    from dnaf.metrics.weights import file_id, torchvision_id

    alexnet = (
        file_id(weights) if weights is not None else torchvision_id(torchvision.models.AlexNet_Weights.IMAGENET1K_V1)
    )
    return f"{alexnet} + lpips v0.1 alex linear heads"


@torch.no_grad()
def lpips_distance(model, ground_truth: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) images -> (B,) LPIPS distances. lpips expects [-1, 1] (normalize=False); the
    pcdms protocol passes [0, 1] on purpose (its known flaw)."""
    return model(ground_truth, generated, normalize=False).flatten()
