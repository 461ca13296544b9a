"""``dnaf sample``: generate one shard of the test set; ``dnaf gather-samples``: check the set.

Images already complete are skipped, and each PNG is written atomically, so an interrupted run
resumes without duplicates or truncated files. With several processes (accelerate launch) a
shard's batches are dealt to them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from accelerate import PartialState
from tqdm import tqdm

from dnaf.core.device import default_device, has_cuda
from dnaf.core.errors import DataError, UsageError
from dnaf.data.index import DatasetIndex
from dnaf.io.atomic import atomic_write, atomic_write_bytes
from dnaf.io.images import decoded_size, encode_image
from dnaf.models.saving import model_image_size
from dnaf.pairs.dataset import PairDataset
from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler
from dnaf.pose.cache import SkeletonCache
from dnaf.sampling.config import SampleConfig
from dnaf.sampling.shards import pairs_to_sample, seeded_pairs, shard_batches

logger = logging.getLogger(__name__)


FINGERPRINT = "sampling.json"


def fingerprint(model_dir: Path, config: SampleConfig) -> dict:
    """What the images in a samples folder depend on: the model's files and the sampling settings
    (all but the shard count, which changes no image)."""
    digest = hashlib.sha256()
    for path in sorted(Path(model_dir).rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(model_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return {"model_sha256": digest.hexdigest(), "sample": config.model_dump(exclude={"shards"})}


def claim_folder(out: Path, expected: dict, replace_stale: bool) -> None:
    """Make sure ``out`` holds only images of this model and these settings. Shards started
    together claim the folder one at a time (a lock file next to it, .<name>.lock, so that it
    holds only the images and the fingerprint): otherwise two could
    delete the same stale images, or one delete images another has just written."""
    out.mkdir(parents=True, exist_ok=True)
    with (out.parent / f".{out.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        path = out / FINGERPRINT
        if path.is_file():
            found = json.loads(path.read_text())
            if found == expected:
                return
            stale = list(out.glob("*.png"))
            if stale and not replace_stale:
                raise UsageError(
                    f"{out} holds {len(stale)} images of another model or other sampling settings; "
                    "pass --replace-stale to delete them, or choose another --out"
                )
            for image in stale:
                image.unlink()
            logger.warning("deleted %d images of another model/settings from %s", len(stale), out)
        with atomic_write(path) as handle:
            json.dump(expected, handle, indent=2)


def sample_shard(
    model_dir: Path,
    index: DatasetIndex,
    root: Path,
    skeletons: SkeletonCache,
    out: Path,
    config: SampleConfig,
    shard: int,
    num_shards: int,
    replace_stale: bool = False,
) -> pd.DataFrame:
    """Generate this shard's images into ``out``; returns its manifest (source, target, file, seed)."""
    state = PartialState(cpu=not has_cuda())
    if state.is_main_process:
        claim_folder(out, fingerprint(model_dir, config), replace_stale)
    state.wait_for_everyone()
    resolution = model_image_size(model_dir)
    pairs = seeded_pairs(index, config.seed)
    batches = shard_batches(len(pairs), config.batch_size, shard, num_shards)
    mine = batches[state.process_index :: state.num_processes]
    todo = [b for b in mine if not all(decoded_size(out / pairs.at[i, "file"]) for i in b)]
    logger.info(
        "shard %d/%d: %d batches, %d to do (process %d)", shard, num_shards, len(mine), len(todo), state.process_index
    )
    if todo:
        generate(model_dir, data_for(index, root, skeletons, pairs, resolution), pairs, todo, out, config, state.device,
                 progress=state.is_local_main_process, desc=f"shard {shard}")  # fmt: skip
    return pairs.loc[[i for b in batches for i in b]].copy()


def data_for(
    index: DatasetIndex, root: Path, skeletons: SkeletonCache, pairs: pd.DataFrame, resolution: tuple[int, int]
) -> PairDataset:
    return PairDataset(index, root, skeletons, list(zip(pairs["source"], pairs["target"], strict=True)), resolution)


def generate(
    model_dir: Path,
    data: PairDataset,
    pairs: pd.DataFrame,
    batches: list[range],
    out: Path,
    config: SampleConfig,
    device: torch.device | str,
    progress: bool = True,
    desc: str = "sampling",
) -> None:
    """Generate the images of ``batches`` (positions in ``pairs``: source, target, file, seed;
    ``data`` holds the same pairs) into ``out``, each PNG written atomically."""
    pipeline = DNAFPipeline.from_pretrained(model_dir).to(device)
    pipeline.scheduler = make_sampler(config.sampler, pipeline.scheduler, pipeline.denoiser.config.space)
    pipeline.set_progress_bar_config(disable=True)  # one bar over the batches
    guidance = Guidance(config.guidance, config.pose_scale, config.appearance_scale)
    for batch in tqdm(batches, desc=desc, disable=not progress):
        items = [data[i] for i in batch]
        generators = [torch.Generator(device).manual_seed(int(pairs.at[i, "seed"])) for i in batch]
        images = pipeline(
            torch.stack([item["source"] for item in items]), torch.stack([item["skeleton"] for item in items]),
            config.steps, guidance, generators, precision=config.precision,
            source_pose=torch.stack([item["source_skeleton"] for item in items]),
        ).images  # fmt: skip
        for i, image in zip(batch, images, strict=True):
            atomic_write_bytes(out / pairs.at[i, "file"], encode_image(np.asarray(image)))


def gather_samples(index: DatasetIndex, samples: Path, manifests: list[Path], out: Path) -> pd.DataFrame:
    """Join the shard manifests; refuse when any test pair lacks its image or has two."""
    joined = pd.concat([pd.read_csv(m, dtype=str, keep_default_na=False) for m in manifests], ignore_index=True)
    expected = pairs_to_sample(index)
    problems = []
    duplicated = joined["file"][joined["file"].duplicated()]
    if len(duplicated):
        problems.append(f"{len(duplicated)} pair(s) appear in more than one shard, e.g. {duplicated.iloc[0]}")
    missing_rows = sorted(set(expected["file"]) - set(joined["file"]))
    if missing_rows:
        problems.append(f"{len(missing_rows)} test pair(s) are in no shard manifest, e.g. {missing_rows[0]}")
    absent = [f for f in joined["file"] if decoded_size(samples / f) is None]
    if absent:
        problems.append(f"{len(absent)} image(s) are missing or unreadable in {samples}, e.g. {absent[0]}")
    if problems or len(joined) != len(expected):
        raise DataError(
            f"{len(joined)} generated images for {len(expected)} test pairs: "
            + "; ".join(problems or ["count differs"])
        )
    with atomic_write(out) as handle:
        joined.sort_values("file").to_csv(handle, index=False)
    return joined


def sample_into(
    model_dir: Path,
    index: DatasetIndex,
    root: Path,
    skeletons: SkeletonCache,
    pairs: pd.DataFrame,
    images: Path,
    config: SampleConfig,
    desc: str,
) -> None:
    """Sample ``pairs`` (source, target, file, seed) into ``images`` in one process, resuming:
    images of another model or settings are replaced, complete batches kept (the swap check,
    the seed stability)."""
    claim_folder(images, fingerprint(model_dir, config), replace_stale=True)
    batches = shard_batches(len(pairs), config.batch_size, 0, 1)
    todo = [b for b in batches if not all(decoded_size(images / pairs.at[i, "file"]) for i in b)]
    if todo:
        data = data_for(index, root, skeletons, pairs, model_image_size(model_dir))
        generate(model_dir, data, pairs, todo, images, config, default_device(), desc=desc)
