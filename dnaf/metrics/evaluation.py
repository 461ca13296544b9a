"""One evaluation: checked inputs -> per-image scores, FID against the cached real set -> metrics.json."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dnaf.atomic import atomic_write
from dnaf.data.index import DatasetIndex
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.fid import load_fid_extractor
from dnaf.metrics.frechet import feature_statistics, frechet_distance
from dnaf.metrics.inputs import EvaluationInputError, check_generated
from dnaf.metrics.perceptual import MetricUnavailable, lpips_weights_id
from dnaf.metrics.real_stats import real_statistics
from dnaf.metrics.scoring import score_images
from dnaf.metrics.summary import metrics_document
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
    generated_size = check_generated(expected, run.manifest, run.samples, size)
    if scores is None:
        scores, lpips_reason = score_images(
            run.index, run.root, run.samples, run.manifest, size, config, parts=run.parts
        )
    else:
        scores = checked_scores(scores, run.manifest, "scores")
    unavailable = {"lpips": lpips_reason} if lpips_reason else {}
    fid, fid_counts, inception = None, None, None
    try:
        extractor = load_fid_extractor(config, size)
        real = real_statistics(run.index, run.root, size, config.resize, extractor, stats_cache)
        files = [run.samples / f for f in sorted(run.manifest["file"])]
        fake = feature_statistics(extractor.features(files))
        fid = frechet_distance(real.mu, real.sigma, *fake)
        fid_counts, inception = (real.record["images"], len(files)), extractor.weights
    except MetricUnavailable as error:
        unavailable["fid"] = str(error)
        logger.warning("%s", error)
    document = metrics_document(
        dataset=run.dataset, method=run.method, scores=scores, test_pairs=len(expected), size=size,
        generated_size=generated_size, resize=config.resize, fid_protocol=config.fid_protocol, fid=fid,
        fid_counts=fid_counts, unavailable=unavailable,
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


def summary_line(document: dict) -> str:
    from dnaf.reports.table import cell, columns

    shown = ", ".join(f"{title} {cell(document, key, form)}" for key, title, form in columns([document]))
    return f"{document['method']} on {document['dataset']}: {shown}"
