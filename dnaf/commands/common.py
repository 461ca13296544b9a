"""What the command modules share: how a module registers its verbs, the common options, and the
dataset, size and worker lookups. Each module of dnaf.commands has ``register(verbs)``; a verb is
``function(args, config) -> exit code`` that raises a dnaf.core.errors.DnafError for anything the
user can fix (dnaf.cli.main logs it once and returns its exit code)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from dnaf.config import Config
from dnaf.core.errors import UsageError
from dnaf.data.config import DatasetConfig

logger = logging.getLogger("dnaf")
Verb = Callable[[argparse.Namespace, Config], int]


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, action="append", default=[], metavar="YAML",
                        help="config file over the defaults; repeat to layer several")  # fmt: skip
    common.add_argument("--config-json", metavar="JSON", help="partial config as inline JSON, applied last")
    common.add_argument("--workers", type=int, help="worker processes (default: config 'workers', 0 = all cores)")
    common.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return common


class Verbs:
    """The subcommands of ``dnaf``, with the options every verb takes (config layers, workers, log level)."""

    def __init__(self, subparsers: argparse._SubParsersAction) -> None:
        self._subparsers, self._common = subparsers, _common_options()

    def add(self, name: str, function: Verb, help: str) -> argparse.ArgumentParser:
        sub = self._subparsers.add_parser(name, parents=[self._common], help=help, description=help)
        sub.set_defaults(function=function)
        return sub


DATASET_HELP = (
    "a dataset of the config: deepfashion, market, demo, or one a config layer defines under datasets: and experiments:"
)


def dataset_options(parser: argparse.ArgumentParser, root: bool = True) -> None:
    """--dataset (required) and, with ``root``, --root over the config's datasets.<name>.root."""
    parser.add_argument("--dataset", required=True, metavar="NAME", help=DATASET_HELP)
    if root:
        parser.add_argument("--root", type=Path, help="dataset root (default: the config's datasets.<name>.root)")


def size(text: str) -> tuple[int, int]:
    """An argparse type: HEIGHTxWIDTH."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 256x176, got {text!r}") from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return height, width


def dataset_and_root(args: argparse.Namespace, config: Config) -> tuple[DatasetConfig, Path]:
    dataset = config.datasets.get(args.dataset)
    return dataset, args.root or dataset.root


def part_mapped_dataset(args: argparse.Namespace, config: Config, what: str) -> tuple[DatasetConfig, Path]:
    """As :func:`dataset_and_root`, refusing a dataset without part label maps (only synthetic
    data has them), which ``what`` needs."""
    dataset, root = dataset_and_root(args, config)
    if dataset.synthetic is None:
        raise UsageError(f"{what} needs part label maps, which only synthetic data has; datasets.{args.dataset} "
                         f"is read from {dataset.root}")  # fmt: skip
    return dataset, root


def scoring_size(config: Config, dataset: str) -> tuple[int, int]:
    """(height, width) images of ``dataset`` are scored at: evaluate.size, else the image size."""
    return tuple(config.experiments.get(dataset).evaluate.size or config.datasets.get(dataset).image_size)


def workers(args: argparse.Namespace, config: Config) -> int:
    return config.workers if args.workers is None else args.workers


def report_problems(log) -> None:
    for problem in log.problems:
        (logger.error if problem.severity == "error" else logger.warning)("%s", problem)
