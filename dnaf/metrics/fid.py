"""Inception features for FID under the two protocols in use (PROTOCOL.md).

- ``community`` (GFLA, DPTN, PIDM, CFLD): torchvision's ``inception_v3`` ImageNet weights, images
  bilinearly resized to 299x299, scaled to [-1, 1], 2048-d average-pool features, every image
  used (no dropped last batch).
- ``clean`` (clean-fid): its TF-Inception and its careful resizing, through clean-fid itself.

Weights come from a local safetensors file or the usual download; when neither can be had the
metric is unavailable (:class:`~dnaf.metrics.perceptual.MetricUnavailable`), never faked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file
from torch import nn

from dnaf.metrics.perceptual import MetricUnavailable

Protocol = Literal["community", "clean"]


class CommunityInception(nn.Module):
    """(B, 3, H, W) images in [0, 1] -> (B, 2048) pool features of torchvision's Inception-v3."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        import torchvision

        self.net = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
        self.net.load_state_dict(state)
        self.net.fc = nn.Identity()  # the forward then ends at the 2048-d average pool
        self.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        resized = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
        return self.net(2 * resized - 1)


def community_inception(weights: Path | None = None, allow_download: bool = True) -> CommunityInception:
    if weights is not None:
        if not Path(weights).is_file():
            raise MetricUnavailable(f"FID: Inception weights file {weights} does not exist")
        return CommunityInception(load_file(weights))
    if not allow_download:
        raise MetricUnavailable("FID: no Inception weights file configured and downloads are off")
    import torchvision

    try:
        state = torchvision.models.Inception_V3_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except Exception as error:  # offline, proxy, disk
        raise MetricUnavailable(
            f"FID: could not download torchvision's Inception-v3 weights ({type(error).__name__}: {error}). "
            "Fix: run once where the network is reachable (cached in TORCH_HOME), or save "
            "torchvision.models.inception_v3(weights='IMAGENET1K_V1').state_dict() with safetensors and set "
            "the weights file in the config"
        ) from None
    return CommunityInception(state)


def community_features(files: list[Path], model: CommunityInception, batch_size: int = 64) -> np.ndarray:
    """(N, 2048) features of the image files, all of them, in order."""
    features = []
    for start in range(0, len(files), batch_size):
        batch = []
        for path in files[start : start + batch_size]:
            with Image.open(path) as image:
                batch.append(torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).float() / 255)
        features.append(model(torch.stack(batch)).double().numpy())
    return np.concatenate(features)


def clean_features(
    files: list[Path], extractor: Callable | None = None, device: str = "cpu", batch_size: int = 64
) -> np.ndarray:
    """(N, D) clean-fid features; ``extractor`` replaces its TF-Inception (it receives float NCHW
    0..255 images at 299x299, as clean-fid gives them)."""
    from cleanfid import fid as cleanfid

    model = extractor
    if model is None:
        try:
            model = cleanfid.build_feature_extractor("clean", torch.device(device), use_dataparallel=False)
        except Exception as error:
            raise MetricUnavailable(
                f"FID (clean): could not load clean-fid's Inception ({type(error).__name__}: {error}). Fix: run "
                "once where the network is reachable (clean-fid caches it)"
            ) from None
    return cleanfid.get_files_features(
        [str(f) for f in files], model, num_workers=0, batch_size=batch_size, device=torch.device(device),
        mode="clean", verbose=False,
    )  # fmt: skip
