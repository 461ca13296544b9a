"""One evaluation: checked inputs -> per-image scores, FID against the cached real set -> metrics.json."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dnaf.data.index import DatasetIndex
from dnaf.io.atomic import atomic_write
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.fid import load_fid_extractor
from dnaf.metrics.frechet import feature_statistics, frechet_distance, small_set_warning
from dnaf.metrics.inputs import EvaluationInputError, check_generated
from dnaf.metrics.perceptual import MetricUnavailable, lpips_weights_id
from dnaf.metrics.protocols import get_protocol, kept
from dnaf.metrics.real_stats import real_statistics
from dnaf.metrics.scoring import score_images
from dnaf.metrics.summary import metrics_document
from dnaf.metrics.weights import random_weights_note
from dnaf.sampling.shards import pairs_to_sample

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """What is scored: the dataset, a folder of generated images and its manifest (source, target, file)."""

    dataset: str
    method: str
    index: DatasetIndex
    root: Path
    samples: Path
    manifest: pd.DataFrame
    parts: Path | None = None  # part label maps (synthetic data): adds the colour error


def checked_scores(scores: pd.DataFrame, manifest: pd.DataFrame, where: str) -> pd.DataFrame:
    """Per-shard score tables joined: exactly one row per manifest file."""
    problems = []
    twice = scores["file"][scores["file"].duplicated()]
    if len(twice):
        problems.append(f"{len(twice)} image(s) are scored twice, e.g. {twice.iloc[0]}")
    missing = set(manifest["file"]) - set(scores["file"])
    if missing:
        problems.append(f"{len(missing)} image(s) have no scores, e.g. {sorted(missing)[0]}")
    extra = set(scores["file"]) - set(manifest["file"])
    if extra:
        problems.append(f"{len(extra)} scored image(s) are not in the manifest, e.g. {sorted(extra)[0]}")
    if problems:
        raise EvaluationInputError(where, problems)
    return scores.sort_values("file").reset_index(drop=True)


def evaluate(
    run: Evaluation,
    config: EvaluateConfig,
    size: tuple[int, int],
    stats_cache: Path,
    scores: pd.DataFrame | None = None,
    lpips_reason: str | None = None,
) -> tuple[dict, pd.DataFrame]:
    """metrics.json's document and the per-image scores. ``scores`` are the per-shard tables when
    they were computed already (the workflow); otherwise every image is scored here."""
    expected = pairs_to_sample(run.index)
    protocol = get_protocol(config.protocol)
    generated_size, warnings = check_generated(expected, run.manifest, run.samples, size, protocol.squeezes)
    if protocol.generated_resize == "none" and generated_size not in (None, tuple(size)):
        raise EvaluationInputError(str(run.samples), [
            f"the generated images are {generated_size[0]}x{generated_size[1]}; protocol {protocol.name} does not "
            f"resize, they must be {size[0]}x{size[1]}"])  # fmt: skip
    if scores is None:
        scores, lpips_reason = score_images(
            run.index, run.root, run.samples, run.manifest, size, config, parts=run.parts
        )
    else:
        scores = checked_scores(scores, run.manifest, "scores")
    unavailable = {"lpips": lpips_reason} if lpips_reason else {}
    lpips_kept = kept(len(scores), protocol.lpips_batch, protocol.lpips_drop_last)
    if not lpips_reason and lpips_kept == 0:
        unavailable["lpips"] = (f"protocol {protocol.name} drops the last incomplete batch of {protocol.lpips_batch}: "
                                f"{len(scores)} images leave none")  # fmt: skip
    elif not lpips_reason and (missing := int(scores.sort_values("file")["lpips"].iloc[:lpips_kept].isna().sum())):
        unavailable["lpips"] = (
            f"{missing} of the {lpips_kept} images have no LPIPS score (a shard's record is missing?)"
        )
    fid, fid_counts, inception = None, None, None
    try:
        extractor = load_fid_extractor(config, size)
    except MetricUnavailable as error:
        unavailable["fid"] = str(error)
        logger.warning("%s", error)
    else:
        real = real_statistics(run.index, run.root, size, extractor, stats_cache)
        files = sorted(run.manifest["file"])
        files = [run.samples / f for f in files[: kept(len(files), protocol.fid_batch, protocol.fid_drop_last)]]
        if len(files) < 2:
            raise EvaluationInputError(str(run.samples), [
                f"{len(run.manifest)} generated image(s) leave {len(files)} for FID under protocol {protocol.name} "
                f"(batches of {protocol.fid_batch}, last incomplete one dropped: {protocol.fid_drop_last}); at least "
                "2 are needed"])  # fmt: skip
        fake = feature_statistics(extractor.features(files, protocol.generated_resize))
        fid_counts, inception = (real.record["images"], len(files)), extractor.weights
        for name, count in (("real", fid_counts[0]), ("generated", fid_counts[1])):
            if note := small_set_warning(name, count, extractor.dimension):
                warnings.append(note)
        sets = f"the real set ({fid_counts[0]} training images) and the generated set ({fid_counts[1]} images)"
        fid = frechet_distance(real.mu, real.sigma, *fake, sets=sets)
    # random weights make a number meaningless only where they were used
    used = [config.inception_weights if fid is not None and protocol.fid_extractor == "torchvision-inception" else None,
            config.lpips_weights if "lpips" not in unavailable else None]  # fmt: skip
    random_notes = [note for note in map(random_weights_note, used) if note]
    warnings = random_notes + warnings
    for note in warnings:
        logger.warning("%s", note)
    document = metrics_document(
        dataset=run.dataset, method=run.method, scores=scores, test_pairs=len(expected), size=size,
        generated_size=generated_size, protocol=protocol, fid=fid, fid_counts=fid_counts, unavailable=unavailable,
        warnings=warnings, meaningful=not random_notes,
        weights={"inception": inception, "lpips": None if lpips_reason else lpips_weights_id(config.lpips_weights)},
    )  # fmt: skip
    return document, scores


def write_results(document: dict, scores: pd.DataFrame, out: Path) -> None:
    """metrics.json at ``out`` and the per-image scores beside it (``<stem>_scores.csv``)."""
    with atomic_write(out.with_name(f"{out.stem}_scores.csv")) as handle:
        scores.to_csv(handle, index=False)
    with atomic_write(out) as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
