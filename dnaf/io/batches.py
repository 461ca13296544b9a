"""Pictures in the forms a diffusers pipeline is given them -> one batch tensor.

PIL images and uint8 arrays are 0..255; float arrays are in [0, 1] (diffusers' convention for
numpy); tensors are already in the range the caller asks for. One picture or a batch: a list, a
(B, H, W, C) array or a (B, C, H, W) tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from dnaf.io.tensors import to_tensor

Picture = Image.Image | np.ndarray | torch.Tensor
PictureInput = Picture | Sequence[Picture]
Resize = Callable[[np.ndarray, tuple[int, int]], np.ndarray]
"""(H, W, 3) uint8 -> (height, width, 3) uint8 at the given (height, width)."""


def _items(pictures: PictureInput, what: str) -> list[Picture]:
    if isinstance(pictures, Image.Image):
        return [pictures]
    if isinstance(pictures, np.ndarray | torch.Tensor):
        batched = pictures.ndim == 4
        if pictures.ndim not in (3, 4):
            raise ValueError(f"{what}: expected a picture or a batch of them, got shape {tuple(pictures.shape)}")
        return list(pictures) if batched else [pictures]
    if isinstance(pictures, Sequence) and not isinstance(pictures, str | bytes) and pictures:
        return [item for picture in pictures for item in _items(picture, what)]
    raise ValueError(f"{what}: expected PIL images, arrays or tensors, got {type(pictures).__name__}")


def _one(picture: Picture, size: tuple[int, int], signed: bool, resize: Resize, what: str) -> torch.Tensor:
    if isinstance(picture, torch.Tensor):  # (3, H, W), taken as it is
        if picture.shape != (3, *size):
            raise ValueError(f"{what}: a tensor must be (3, {size[0]}, {size[1]}), got {tuple(picture.shape)}")
        return picture.float()
    if isinstance(picture, Image.Image):
        picture = np.asarray(picture.convert("RGB"))
    if picture.ndim != 3 or picture.shape[2] != 3:
        raise ValueError(f"{what}: an array must be (H, W, 3), got {picture.shape}")
    if picture.dtype == np.uint8:
        return to_tensor(resize(picture, size), signed)
    if picture.shape[:2] != tuple(size):
        raise ValueError(f"{what}: a float array must be {size[0]}x{size[1]} (uint8 ones are resized)")
    tensor = torch.from_numpy(np.array(picture, dtype=np.float32)).permute(2, 0, 1)
    return tensor * 2 - 1 if signed else tensor


def picture_batch(
    pictures: PictureInput, size: tuple[int, int], signed: bool, resize: Resize, what: str
) -> torch.Tensor:
    """-> (B, 3, H, W) float at ``size`` = (H, W), in [-1, 1] (``signed``) or [0, 1]; PIL images and
    uint8 arrays of another size go through ``resize``, other inputs must have the size."""
    return torch.stack([_one(picture, size, signed, resize, what) for picture in _items(pictures, what)])


def region_batch(masks: PictureInput, size: tuple[int, int]) -> torch.Tensor:
    """Masks (non-zero = inside): PIL images, (H, W) or (B, H, W) arrays, (H, W), (B, H, W) or
    (B, 1, H, W) tensors -> (B, 1, H, W) float of 0 and 1. They must be at ``size``."""
    if isinstance(masks, Image.Image):
        masks = np.asarray(masks.convert("L"))
    if isinstance(masks, Sequence):
        return torch.cat([region_batch(mask, size) for mask in masks])
    tensor = torch.as_tensor(np.array(masks) if isinstance(masks, np.ndarray) else masks)  # a writable copy
    tensor = tensor.reshape(-1, 1, *tensor.shape[-2:]) if tensor.ndim >= 2 else tensor
    if tensor.ndim != 4 or tuple(tensor.shape[-2:]) != tuple(size):
        raise ValueError(f"mask: expected {size[0]}x{size[1]} masks, got shape {tuple(tensor.shape)}")
    return (tensor != 0).float()
