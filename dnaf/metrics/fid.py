"""Inception features for FID, as the peers compute them (see :mod:`dnaf.metrics.protocols`).

- ``torchvision-inception`` (GFLA, DPTN, PIDM, CFLD, PCDMs): torchvision's ``inception_v3``
  ImageNet weights run through its blocks to the 2048-d average pool, fed the images in [0, 1]
  bilinearly resized to 299x299 and mapped per channel by ``x * (std / 0.5) + (mean - 0.5) / 0.5``
  with the ImageNet mean and std (torchvision's ``transform_input`` formula), not ``2 x - 1``.
- ``clean-fid``: its TF-Inception and its careful resizing, through clean-fid itself.

Images are first brought to the evaluation size with the protocol's resizing (real and generated
sets each with their own). Weights come from a local safetensors file or the usual download; when
neither can be had the metric is unavailable (:class:`MetricUnavailable`), never faked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn
from tqdm import tqdm

from dnaf.core.device import default_device
from dnaf.io.images import IMAGENET_MEAN, IMAGENET_STD
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.perceptual import MetricUnavailable
from dnaf.metrics.protocols import Protocol, Resize, get_protocol
from dnaf.metrics.resizing import load_unit, resize_unit
from dnaf.metrics.weights import file_id, torchvision_id

CLEAN_FID_WEIGHTS = "clean-fid inception-2015-12-05.pt (TF-Inception)"


class CommunityInception(nn.Module):
    """(B, 3, H, W) images in [0, 1] -> (B, 2048) pool features of torchvision's Inception-v3."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        import torchvision

        # transform_input stays off: the mapping is applied in forward, after the resize to 299
        self.net = torchvision.models.inception_v3(
            weights=None, aux_logits=True, init_weights=False, transform_input=False
        )
        self.net.load_state_dict(state)
        self.net.fc = nn.Identity()  # in eval mode the forward then ends at the 2048-d average pool
        self.register_buffer("scale", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) / 0.5, persistent=False)
        self.register_buffer("shift", (torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) - 0.5) / 0.5, persistent=False)
        self.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.scale.device, torch.float32)
        resized = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
        return self.net(resized * self.scale + self.shift).cpu()


def community_inception(weights: Path | None = None, allow_download: bool = True) -> tuple[CommunityInception, str]:
    """The model and the identifier of its weights."""
    if weights is not None:
        if not Path(weights).is_file():
            raise MetricUnavailable(f"FID: Inception weights file {weights} does not exist")
        return CommunityInception(load_file(weights)), file_id(weights)
    if not allow_download:
        raise MetricUnavailable(
            "FID: no Inception weights file configured and downloads are off. Fix: set "
            "experiments.<dataset>.evaluate.inception_weights or allow_download: true"
        )
    import torchvision

    enum = torchvision.models.Inception_V3_Weights.IMAGENET1K_V1
    try:
        state = enum.get_state_dict(progress=False)
    except Exception as error:  # offline, proxy, disk
        raise MetricUnavailable(
            f"FID: could not download torchvision's Inception-v3 weights ({type(error).__name__}: {error}). "
            "Fix: run once where the network is reachable (cached in TORCH_HOME), or save "
            "torchvision.models.inception_v3(weights='IMAGENET1K_V1').state_dict() with safetensors and set "
            "experiments.<dataset>.evaluate.inception_weights"
        ) from None
    return CommunityInception(state), torchvision_id(enum)


def community_features(
    files: list[Path],
    model: CommunityInception,
    size: tuple[int, int],
    resize: Resize,
    batch_size: int = 64,
    progress: bool = False,
) -> np.ndarray:
    """(N, 2048) features of the image files at ``size``, all of them, in order."""
    features = []
    starts = range(0, len(files), batch_size)
    for start in tqdm(starts, desc="FID features", unit="batch", disable=not progress):
        batch = [torch.from_numpy(load_unit(p, size, resize)) for p in files[start : start + batch_size]]
        pixels = torch.stack(batch).permute(0, 3, 1, 2).float()
        features.append(model(pixels).double().numpy())
    return np.concatenate(features)


def clean_inception(allow_download: bool = True, device: str = "cpu"):
    """clean-fid's TF-Inception feature extractor (clean-fid downloads and caches it)."""
    if not allow_download:
        raise MetricUnavailable(
            "FID (clean): clean-fid downloads its Inception and downloads are off. Fix: allow_download: true "
            "once where the network is reachable (clean-fid caches it)"
        )
    from cleanfid import fid as cleanfid

    try:
        return cleanfid.build_feature_extractor("clean", torch.device(device), use_dataparallel=False)
    except Exception as error:
        raise MetricUnavailable(
            f"FID (clean): could not load clean-fid's Inception ({type(error).__name__}: {error}). Fix: run once "
            "where the network is reachable (clean-fid caches it)"
        ) from None


def clean_features(
    files: list[Path],
    model: Callable,
    size: tuple[int, int],
    resize: Resize,
    device: str = "cpu",
    batch_size: int = 64,
    progress: bool = False,
) -> np.ndarray:
    """(N, D) clean-fid features of the files brought to ``size`` first. ``model`` is clean-fid's
    extractor or any stand-in: it receives float NCHW 0..255 images at 299x299, as clean-fid
    gives them."""
    from cleanfid import fid as cleanfid

    return cleanfid.get_files_features(
        [str(f) for f in files], model, num_workers=0, batch_size=batch_size, device=torch.device(device),
        mode="clean", verbose=progress, description="FID features (clean)",
        custom_image_tranform=lambda image: _to_uint8(resize_unit(image, size, resize)),
    )  # fmt: skip


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class FidExtractor:
    """Files -> features under one protocol at one size, with the identifier of its weights.
    ``features(files, resize)`` brings each file to the size with ``resize`` first."""

    protocol: Protocol
    weights: str
    features: Callable[[list[Path], Resize], np.ndarray]
    dimension: int = 2048


def load_fid_extractor(config: EvaluateConfig, size: tuple[int, int], progress: bool = True) -> FidExtractor:
    """The extractor of ``config.protocol`` (on the GPU when there is one); raises
    MetricUnavailable with the reason and the fix."""
    protocol = get_protocol(config.protocol)
    device = default_device()
    if protocol.fid_extractor == "torchvision-inception":
        model, weights = community_inception(config.inception_weights, config.allow_download)
        model = model.to(device)
        return FidExtractor(
            protocol, weights,
            lambda files, resize: community_features(files, model, size, resize, config.batch_size, progress),
        )  # fmt: skip
    model = clean_inception(config.allow_download, device)
    return FidExtractor(
        protocol, CLEAN_FID_WEIGHTS,
        lambda files, resize: clean_features(files, model, size, resize, device, config.batch_size, progress),
    )  # fmt: skip
