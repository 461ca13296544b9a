"""The evaluation protocols of the field, as presets: every choice that moves a published number.

Read from each peer's evaluation scripts (2026-11; the docs' evaluation page lists the files and
lines). What all of them share is fixed in code, not here: torchvision's ImageNet Inception-v3
through its blocks to the 2048-d average pool, fed images in [0, 1] resized bilinearly to 299 and
mapped per channel by ``x * (std / 0.5) + (mean - 0.5) / 0.5``; the Frechet distance of
pytorch-fid / clean-fid; SSIM with a 51 window on [0, 1]; PSNR with data range 1.

A preset fixes the rest:

- resizing of the real (training and ground-truth) images and of the generated images to the
  evaluation size: ``pil-bicubic`` (PIL's bicubic, which antialiases when shrinking),
  ``torch-bicubic-antialias`` (``F.interpolate(..., "bicubic", antialias=True)``, then quantised
  to 8 bits, as CFLD does to its 512x512 samples), ``cv2-bilinear`` / ``cv2-cubic`` (``cv2.resize``
  on float32 0-255 images, unclipped, then / 255), or ``none`` (images must already have the size);
- the FID feature extractor (torchvision Inception, or clean-fid's TF-Inception with its own
  resizing), the batch size and whether the last incomplete batch is dropped (in sorted file order;
  the peers' scripts take the folder's listing order, which depends on the file system);
- the Gaussian sigma of SSIM_256 and whether images are white-padded to 256 wide first (DPTN);
- the LPIPS input (``[-1, 1]``, or ``[0, 1]`` passed without normalisation, PCDMs' known flaw),
  batch size and dropped last batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Resize = Literal["pil-bicubic", "torch-bicubic-antialias", "cv2-bilinear", "cv2-cubic", "none"]
ProtocolName = Literal["cfld", "pidm", "gfla", "dptn", "pcdms", "clean"]


@dataclass(frozen=True)
class Protocol:
    name: str
    matches: str
    """The published tables whose numbers this preset reproduces."""
    real_resize: Resize
    """Real images: the FID real set (training images) and the ground truth of SSIM/PSNR/LPIPS."""
    generated_resize: Resize
    fid_extractor: Literal["torchvision-inception", "clean-fid"]
    fid_batch: int
    fid_drop_last: bool
    ssim_sigma: float
    """Gaussian sigma of SSIM_256 (skimage then uses a window of 2 * int(3.5 sigma + 0.5) + 1)."""
    pad_width: int | None
    """White-pad both images to this width (centred) before SSIM, SSIM_256 and PSNR."""
    lpips_input: Literal["[-1, 1]", "[0, 1] unnormalised"]
    lpips_batch: int
    lpips_drop_last: bool
    squeezes: bool = False
    """The peer's script resizes outputs of another aspect ratio (PIDM's 256x256, CFLD's 512x512)
    to the evaluation size, distorting them; the other presets refuse such outputs."""
    notes: tuple[str, ...] = ()

    def record(self) -> dict:
        """Every choice, for metrics.json."""
        return asdict(self) | {"notes": list(self.notes)}


PROTOCOLS: dict[str, Protocol] = {
    "cfld": Protocol(
        name="cfld",
        matches="CFLD (CVPR 2024) tables; the numbers it copies from PIDM/NTED are PIDM's protocol",
        real_resize="pil-bicubic",
        generated_resize="torch-bicubic-antialias",
        fid_extractor="torchvision-inception",
        fid_batch=64,
        fid_drop_last=False,
        ssim_sigma=1.5,
        pad_width=None,
        lpips_input="[-1, 1]",
        lpips_batch=64,
        lpips_drop_last=False,
        squeezes=True,
        notes=(
            "CFLD's real set and ground truth are the high-resolution originals (train_highres, test_highres) "
            "brought to 256x176 with PIL bicubic; here they are the dataset's images brought to the evaluation "
            "size the same way, identical when the dataset root holds those originals",
            "LPIPS: lpips v0.1 with normalize=True on [0, 1], which is [-1, 1]",
        ),
    ),  # fmt: skip
    "pidm": Protocol(
        name="pidm",
        matches="PIDM (CVPR 2023) tables, and the rows other papers copy from it",
        real_resize="cv2-bilinear",
        generated_resize="cv2-bilinear",
        fid_extractor="torchvision-inception",
        fid_batch=64,
        fid_drop_last=True,
        ssim_sigma=1.2,
        pad_width=None,
        lpips_input="[-1, 1]",
        lpips_batch=64,
        lpips_drop_last=True,
        squeezes=True,
        notes=(
            "PIDM generates 256x256 and squeezes to 176x256 with cv2.resize (bilinear) for FID and LPIPS; its "
            "SSIM and PSNR read the files at their own size, here they are computed at the evaluation size",
        ),
    ),  # fmt: skip
    "gfla": Protocol(
        name="gfla",
        matches="GFLA (CVPR 2020) tables, and the rows of PATN/ADGAN/PISE papers that use its script",
        real_resize="none",
        generated_resize="none",
        fid_extractor="torchvision-inception",
        fid_batch=64,
        fid_drop_last=True,
        ssim_sigma=1.5,
        pad_width=None,
        lpips_input="[-1, 1]",
        lpips_batch=64,
        lpips_drop_last=True,
        notes=(
            "no resizing: every image must already have the evaluation size",
            "LPIPS through GFLA's bundled PerceptualSimilarity (net-lin alex); its version is not in the "
            "repository, lpips v0.1 is used here",
        ),
    ),  # fmt: skip
    "dptn": Protocol(
        name="dptn",
        matches="DPTN (CVPR 2022) tables",
        real_resize="none",
        generated_resize="none",
        fid_extractor="torchvision-inception",
        fid_batch=64,
        fid_drop_last=True,
        ssim_sigma=1.5,
        pad_width=256,
        lpips_input="[-1, 1]",
        lpips_batch=1,
        lpips_drop_last=False,
        notes=(
            "GFLA's script with SSIM, SSIM_256 and PSNR on images white-padded to 256 wide (DeepFashion; "
            "its Market evaluation does not pad: use gfla there)",
        ),
    ),  # fmt: skip
    "pcdms": Protocol(
        name="pcdms",
        matches="PCDMs (ICLR 2024) tables",
        real_resize="cv2-cubic",
        generated_resize="cv2-cubic",
        fid_extractor="torchvision-inception",
        fid_batch=128,
        fid_drop_last=True,
        ssim_sigma=1.2,
        pad_width=None,
        lpips_input="[0, 1] unnormalised",
        lpips_batch=64,
        lpips_drop_last=True,
        squeezes=True,
        notes=(
            "KNOWN FLAW reproduced: LPIPS is fed [0, 1] images without normalize=True, which lowers it",
            "PCDMs samples 4 images per pair and keeps the one with the best SSIM: a sampling choice, not "
            "scoring; this preset scores whatever one image per pair it is given",
        ),
    ),  # fmt: skip
    "clean": Protocol(
        name="clean",
        matches="no published pose-transfer table: clean-fid's careful FID, for new comparisons",
        real_resize="pil-bicubic",
        generated_resize="pil-bicubic",
        fid_extractor="clean-fid",
        fid_batch=64,
        fid_drop_last=False,
        ssim_sigma=1.5,
        pad_width=None,
        lpips_input="[-1, 1]",
        lpips_batch=64,
        lpips_drop_last=False,
        notes=("clean-fid's TF-Inception and its own resizing to 299 after the evaluation-size resize",),
    ),  # fmt: skip
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown evaluation protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def kept(count: int, batch: int, drop_last: bool) -> int:
    """How many of ``count`` images a script that drops the last incomplete batch uses."""
    return count // batch * batch if drop_last else count


def cache_key(protocol: Protocol) -> str:
    """What the real-set FID features depend on, as a file-name part: protocols that share it
    share one statistics cache (gfla and dptn)."""
    batches = f"drop{protocol.fid_batch}" if protocol.fid_drop_last else "all"
    return f"{protocol.fid_extractor}-{protocol.real_resize}-{batches}"


def real_stats_cache(dataset: str, protocol: str) -> Path:
    """Where the workflow and the CLI keep a dataset's real-set FID statistics."""
    return Path("results") / dataset / "fid" / f"real-{cache_key(get_protocol(protocol))}.safetensors"
