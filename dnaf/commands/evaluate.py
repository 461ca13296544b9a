"""Evaluation verbs: score, fid-stats, aggregate, evaluate, copy-source, compare-grid, report, compare."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnaf.commands.common import (
    Verbs,
    dataset_and_root,
    dataset_options,
    logger,
    report_problems,
    scoring_size,
    workers,
)
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK, DataError, DnafError, UsageError
from dnaf.data.parts import part_maps
from dnaf.io.atomic import atomic_write
from dnaf.metrics.protocols import real_stats_cache


def _read_manifest(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _part_maps(config: Config, dataset: str, root: Path) -> Path | None:
    """The part label maps of a synthetic dataset (for the colour error), None for real data."""
    return part_maps(root) if config.datasets.get(dataset).synthetic is not None else None


def score(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.metrics.scoring import score_images

    _, root = dataset_and_root(args, config)
    evaluate = config.experiments.get(args.dataset).evaluate
    size = scoring_size(config, args.dataset)
    manifest = _read_manifest(args.manifest)
    scores, lpips_reason = score_images(
        DatasetIndex.load(args.index), root, args.samples, manifest, size, evaluate, progress=True,
        parts=_part_maps(config, args.dataset, root),
    )  # fmt: skip
    with atomic_write(args.out) as handle:
        scores.to_csv(handle, index=False)
    record = {"size": list(size), "protocol": evaluate.protocol, "lpips_unavailable": lpips_reason,
              "images": len(scores)}  # fmt: skip
    with atomic_write(args.out.with_suffix(".json")) as handle:
        json.dump(record, handle, indent=2)
    logger.info("scored %d images at %dx%d: mean SSIM %.4f, PSNR %.2f", len(scores), *size, scores["ssim"].mean(),
                scores["psnr"].mean())  # fmt: skip
    return EXIT_OK


def fid_stats(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.metrics.fid import load_fid_extractor
    from dnaf.metrics.perceptual import MetricUnavailable
    from dnaf.metrics.real_stats import real_statistics

    _, root = dataset_and_root(args, config)
    evaluate = config.experiments.get(args.dataset).evaluate
    size = scoring_size(config, args.dataset)
    cache = args.cache or real_stats_cache(args.dataset, evaluate.protocol)
    try:
        extractor = load_fid_extractor(evaluate, size)
        record = {"cache": str(cache), **real_statistics(DatasetIndex.load(args.index), root, size, extractor,
                                                         cache).record}  # fmt: skip
    except MetricUnavailable as error:
        logger.warning("%s", error)
        record = {"unavailable": str(error)}
    if args.out:
        with atomic_write(args.out) as handle:
            json.dump(record, handle, indent=2)
    return EXIT_OK


def _lpips_reason(score_files: list[Path]) -> str | None:
    for path in score_files:
        record_file = path.with_suffix(".json")
        if record_file.is_file():
            reason = json.loads(record_file.read_text()).get("lpips_unavailable")
            if reason:
                return reason
    return None


def _evaluated(run, evaluate, size, cache, out: Path, scores=None, lpips_reason=None) -> dict:
    """metrics.json written to ``out`` and returned; a DataError says why the inputs cannot be scored."""
    from dnaf.metrics.evaluation import evaluate as run_evaluation
    from dnaf.metrics.evaluation import write_results
    from dnaf.reports.table import summary_line

    document, scores = run_evaluation(run, evaluate, size, cache, scores, lpips_reason)
    write_results(document, scores, out)
    logger.info("%s -> %s", summary_line(document), out)
    return document


def aggregate(args: argparse.Namespace, config: Config) -> int:
    import pandas as pd

    from dnaf.data.index import DatasetIndex
    from dnaf.metrics.evaluation import Evaluation

    _, root = dataset_and_root(args, config)
    evaluate = config.experiments.get(args.dataset).evaluate
    scores = pd.concat([pd.read_csv(path, dtype={"file": str, "source": str, "target": str}, keep_default_na=False,
                                    na_values=["", "NaN", "nan"]) for path in args.scores],
                       ignore_index=True)  # fmt: skip
    run = Evaluation(args.dataset, args.method, DatasetIndex.load(args.index), root, args.samples,
                     _read_manifest(args.manifest), _part_maps(config, args.dataset, root))  # fmt: skip
    cache = args.stats_cache or real_stats_cache(args.dataset, evaluate.protocol)
    _evaluated(run, evaluate, scoring_size(config, args.dataset), cache, args.out, scores, _lpips_reason(args.scores))
    return EXIT_OK


def evaluate_folder(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.data.load import inspect_dataset
    from dnaf.metrics.evaluation import Evaluation
    from dnaf.metrics.inputs import match_folder
    from dnaf.sampling.shards import pairs_to_sample

    dataset, root = dataset_and_root(args, config)
    evaluate = config.experiments.get(args.dataset).evaluate
    if args.index:
        index = DatasetIndex.load(args.index)
    else:
        index, log = inspect_dataset(dataset, root, workers=workers(args, config), images=False)
        if log.errors:
            report_problems(log)
            raise DataError(f"{root}: {len(log.errors)} error(s) in the dataset; run 'dnaf check-data' for the full "
                            "report")  # fmt: skip
    manifest, pattern = match_folder(args.generated, pairs_to_sample(index), args.naming)
    logger.info("%s: %d images named '%s.<ext>'", args.generated, len(manifest), pattern)
    method = args.method or args.generated.name
    run = Evaluation(
        args.dataset, method, index, root, args.generated, manifest, _part_maps(config, args.dataset, root)
    )
    folder = Path("results") / args.dataset / "evaluate" / method
    if args.protocol != "all":
        evaluate = evaluate.model_copy(update={"protocol": args.protocol or evaluate.protocol})
        cache = args.stats_cache or real_stats_cache(args.dataset, evaluate.protocol)
        out = args.out or folder / evaluate.protocol / "metrics.json"
        _evaluated(run, evaluate, scoring_size(config, args.dataset), cache, out)
        return EXIT_OK
    if args.stats_cache:
        logger.warning("--stats-cache is ignored with --protocol all: each preset uses its own cache")
    return _every_protocol(run, evaluate, scoring_size(config, args.dataset), args.out or folder / "protocols.md")


def _every_protocol(run, evaluate, size, table: Path) -> int:
    """The folder scored under every preset: <table folder>/<preset>/metrics.json and one table."""
    from dnaf.metrics.protocols import PROTOCOLS
    from dnaf.reports.table import protocol_table

    documents, refused = [], {}
    for name in PROTOCOLS:  # a preset that cannot score this folder is listed with why; the others go on
        logger.info("protocol %s", name)
        preset = evaluate.model_copy(update={"protocol": name})
        try:
            documents.append(_evaluated(run, preset, size, real_stats_cache(run.dataset, name),
                                        table.parent / name / "metrics.json"))  # fmt: skip
        except DnafError as error:
            logger.error("%s", error)
            refused[name] = str(error)
    if not documents:
        raise DataError(f"{run.samples}: no protocol can score this folder (the reasons are above)")
    with atomic_write(table) as handle:
        handle.write(protocol_table(documents, refused))
    logger.info("%s scored under %d of %d protocols: %s", run.method, len(documents), len(PROTOCOLS), table)
    return EXIT_OK


def copy_source(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.sampling.baselines import write_copy_source

    _, root = dataset_and_root(args, config)
    manifest = write_copy_source(DatasetIndex.load(args.index), root, args.out)
    for path in (args.manifest, args.shard_manifest):  # a baseline is sampled as one shard
        if path is not None:
            with atomic_write(path) as handle:
                manifest.to_csv(handle, index=False)
    logger.info("copy-source baseline: %d images in %s", len(manifest), args.out)
    return EXIT_OK


def compare_grid(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.io.atomic import atomic_write_bytes
    from dnaf.io.images import encode_image
    from dnaf.pose.cache import SkeletonCache
    from dnaf.reports.comparison_grid import comparison_grid

    dataset, root = dataset_and_root(args, config)
    index = DatasetIndex.load(args.index)
    methods = {}
    for item in args.samples:
        label, _, folder = item.rpartition("=")
        methods[label or Path(folder).name] = Path(folder)
    size = scoring_size(config, args.dataset)
    grid = comparison_grid(index, root, SkeletonCache(index, args.poses, dataset.skeleton_size),
                           _read_manifest(args.manifest), methods, size, args.count)  # fmt: skip
    atomic_write_bytes(args.out, encode_image(grid))
    logger.info("comparison grid of %d pairs and %d method(s) in %s", min(args.count, len(index.pairs)), len(methods),
                args.out)  # fmt: skip
    return EXIT_OK


def report(args: argparse.Namespace, config: Config) -> int:
    from dnaf.reports.html import render_report

    documents = [json.loads(path.read_text()) for path in args.metrics]
    pictures = []
    for item in args.picture:
        caption, _, path = item.rpartition("=")
        pictures.append((Path(path), caption or Path(path).stem))
    with atomic_write(args.out) as handle:
        handle.write(render_report(args.title or f"dnaf: {documents[0]['dataset']}", documents, pictures))
    logger.info("report with %d result(s) and %d picture(s) in %s", len(documents),
                sum(p.is_file() for p, _ in pictures), args.out)  # fmt: skip
    return EXIT_OK


def compare(args: argparse.Namespace, config: Config) -> int:
    from dnaf.reports.table import markdown_table

    documents = [json.loads(path.read_text()) for path in args.metrics]
    datasets = {d["dataset"] for d in documents}
    if len(datasets) > 1:
        raise UsageError(f"the results are of different datasets ({sorted(datasets)}): not comparable in one table")
    presets = {d["protocol"].get("name") for d in documents}
    if len(presets) > 1:
        raise UsageError(f"the results were scored under different protocols ({sorted(map(str, presets))}): not "
                         "comparable in one table; re-score with one (dnaf evaluate --protocol NAME)")  # fmt: skip
    from dnaf.reports.swap_check import appearance_checks

    pose_only = json.loads(args.pose_only.read_text()) if args.pose_only else None
    swap = json.loads(args.swap.read_text()) if args.swap else None
    with atomic_write(args.out) as handle:
        handle.write(markdown_table(documents) + appearance_checks(documents[0], pose_only, swap))
    logger.info("comparison of %d result(s) in %s", len(documents), args.out)
    return EXIT_OK


def register(verbs: Verbs) -> None:
    from dnaf.metrics.protocols import PROTOCOLS

    sub = verbs.add("score", score, "per-image SSIM, SSIM_256, PSNR and LPIPS of generated images against the truth")
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--samples", type=Path, required=True, help="folder of generated images")
    sub.add_argument("--manifest", type=Path, required=True, help="CSV with source, target, file")
    sub.add_argument("--out", type=Path, required=True, help="CSV of scores (+ a .json beside it)")

    sub = verbs.add(
        "fid-stats", fid_stats, "FID statistics of the real set (all training images), computed once and cached"
    )
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--cache", type=Path,
                     help="statistics file (default: results/<dataset>/fid/real-<extractor>-<resize>-<batches>"
                     ".safetensors)")  # fmt: skip
    sub.add_argument("--out", type=Path, help="write the record (or why FID is unavailable) as JSON here")

    sub = verbs.add("aggregate", aggregate, "per-shard scores + FID -> metrics.json (refuses inputs that do not fit)")
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--samples", type=Path, required=True, help="folder of generated images")
    sub.add_argument("--manifest", type=Path, required=True, help="joined manifest (gather-samples)")
    sub.add_argument("--scores", type=Path, nargs="+", required=True, help="the shards' score CSVs (dnaf score)")
    sub.add_argument("--method", default="DNAF", help="name of the method in tables (default: DNAF)")
    sub.add_argument("--stats-cache", type=Path, help="real-set FID statistics file (default: as fid-stats)")
    sub.add_argument("--out", type=Path, required=True, help="metrics.json (per-image scores go beside it)")

    sub = verbs.add("evaluate", evaluate_folder, "score ANY method's folder of generated images with this protocol")
    dataset_options(sub)
    sub.add_argument("--generated", type=Path, required=True, help="folder of generated test images")
    sub.add_argument(
        "--naming",
        default="auto",
        help="file naming: auto, dnaf, pidm, nted, cfld, or a pattern such as '{source}_2_{target}_vis'",
    )
    sub.add_argument("--index", type=Path, help="an index folder (default: read the dataset at --root)")
    sub.add_argument("--method", help="name in tables (default: the folder name)")
    sub.add_argument("--stats-cache", type=Path, help="real-set FID statistics file (default: as fid-stats)")
    sub.add_argument("--protocol", choices=[*PROTOCOLS, "all"],
                     help="evaluation preset (default: experiments.<dataset>.evaluate.protocol); all: every preset, "
                     "one table")  # fmt: skip
    sub.add_argument("--out", type=Path,
                     help="metrics.json (default: results/<dataset>/evaluate/<method>/<protocol>/metrics.json); with "
                     "--protocol all the table (default: .../<method>/protocols.md, each preset's metrics.json beside "
                     "it)")  # fmt: skip

    sub = verbs.add(
        "copy-source", copy_source, "the copy-the-source baseline: each test pair's source image as its output"
    )
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True, help="folder of images")
    sub.add_argument("--manifest", type=Path, required=True, help="CSV with source, target, file")
    sub.add_argument("--shard-manifest", type=Path, help="the same CSV again, as the baseline's only shard")

    sub = verbs.add("compare-grid", compare_grid, "figure: pose | source | ground truth | each method's output")
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--poses", type=Path, required=True)
    sub.add_argument("--manifest", type=Path, required=True, help="CSV with source, target, file")
    sub.add_argument(
        "--samples", nargs="+", required=True, metavar="[LABEL=]DIR", help="image folders, in column order"
    )
    sub.add_argument("--count", type=int, default=8, help="pairs (rows), spread over the test set")
    sub.add_argument("--out", type=Path, required=True, help="PNG file")

    sub = verbs.add("report", report, "self-contained HTML report: metrics table, protocol record, pictures")
    sub.add_argument("--metrics", type=Path, nargs="+", required=True, help="metrics.json files, the main run first")
    sub.add_argument("--picture", nargs="*", default=[], metavar="[CAPTION=]PNG", help="pictures to embed")
    sub.add_argument("--title")
    sub.add_argument("--out", type=Path, required=True, help="HTML file")

    sub = verbs.add("compare", compare, "Markdown table of several metrics.json (one dataset)")
    sub.add_argument("--metrics", type=Path, nargs="+", required=True, help="the main run first")
    sub.add_argument("--pose-only", type=Path, help="metrics.json of the pose-only model: colour error ratio")
    sub.add_argument("--swap", type=Path, help="swap.json of `dnaf swap-check`")
    sub.add_argument("--out", type=Path, required=True)
