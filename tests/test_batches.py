"""Pictures, masks and poses in the forms a diffusers pipeline is given them -> batch tensors."""

from functools import partial

import numpy as np
import pytest
import torch
from PIL import Image

from dnaf.io.batches import picture_batch, region_batch
from dnaf.io.images import resize_rgb
from dnaf.pose.condition import is_keypoints, skeleton_batch
from dnaf.pose.render import render_skeleton, skeleton_at

SIZE = (8, 6)
RESIZE = partial(resize_rgb, method="bicubic-antialias")
rng = np.random.default_rng(0)


def test_every_picture_form_gives_the_same_batch():
    pictures = rng.integers(0, 256, (2, *SIZE, 3), dtype=np.uint8)
    expected = torch.from_numpy(pictures).permute(0, 3, 1, 2).float() / 255.0 * 2 - 1  # (B, 3, H, W)
    forms = [pictures, list(pictures), [Image.fromarray(p) for p in pictures], pictures.astype(np.float32) / 255,
             expected]  # fmt: skip
    for form in forms:
        torch.testing.assert_close(picture_batch(form, SIZE, True, RESIZE, "x"), expected, atol=1e-6, rtol=0)
    unsigned = picture_batch(Image.fromarray(pictures[0]), SIZE, False, RESIZE, "x")
    torch.testing.assert_close(unsigned, (expected[:1] + 1) / 2, atol=1e-6, rtol=0)


def test_uint8_pictures_are_resized_and_others_must_fit():
    big = rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)
    resized = picture_batch(big, SIZE, False, RESIZE, "x")
    assert torch.equal(resized[0], torch.from_numpy(RESIZE(big, SIZE).copy()).permute(2, 0, 1).float() / 255.0)
    with pytest.raises(ValueError, match="x: a float array must be 8x6"):
        picture_batch(big.astype(np.float32) / 255, SIZE, False, RESIZE, "x")
    with pytest.raises(ValueError, match=r"x: a tensor must be \(3, 8, 6\)"):
        picture_batch(torch.zeros(3, 16, 12), SIZE, False, RESIZE, "x")
    with pytest.raises(ValueError, match="x: expected PIL images, arrays or tensors, got str"):
        picture_batch("photo.jpg", SIZE, False, RESIZE, "x")


def test_masks_in_every_form():
    mask = np.zeros(SIZE, np.uint8)
    mask[2:5, 1:3] = 200
    expected = torch.from_numpy(mask > 0).float()[None, None]
    for form in (mask, mask > 0, Image.fromarray(mask), torch.from_numpy(mask)[None], [mask]):
        assert torch.equal(region_batch(form, SIZE), expected)
    with pytest.raises(ValueError, match="mask: expected 8x6 masks"):
        region_batch(np.zeros((4, 4)), SIZE)


def test_keypoints_are_drawn_at_the_skeleton_size_and_filtered_to_the_frame():
    keypoints = np.full((18, 2), np.nan)
    keypoints[[1, 2, 5]] = [[0.5, 0.3], [0.3, 0.3], [0.7, 0.3]]
    assert is_keypoints(keypoints) and is_keypoints([keypoints]) and not is_keypoints(np.zeros((*SIZE, 3)))
    drawn = skeleton_at(render_skeleton(keypoints, (32, 24)), SIZE)
    expected = torch.from_numpy(drawn.copy()).permute(2, 0, 1).float()[None] / 255.0
    assert expected.sum() > 0
    for form in (keypoints, [keypoints], keypoints[None]):
        assert torch.equal(skeleton_batch(form, SIZE, (32, 24)), expected)
    assert torch.equal(skeleton_batch(drawn, SIZE, (32, 24)), expected)  # a picture is taken as it is
