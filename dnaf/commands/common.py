"""What the command implementations share: exit codes, the logger, dataset and worker lookup."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from dnaf.config import Config
from dnaf.data.config import DatasetConfig

logger = logging.getLogger("dnaf")
EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def dataset_and_root(args: argparse.Namespace, config: Config) -> tuple[DatasetConfig, Path]:
    dataset = config.datasets.get(args.dataset)
    return dataset, args.root or dataset.root


def scoring_size(config: Config, dataset: str) -> tuple[int, int]:
    """(height, width) images of ``dataset`` are scored at: evaluate.size, else the image size."""
    return tuple(config.experiments.get(dataset).evaluate.size or config.datasets.get(dataset).image_size)


def workers(args: argparse.Namespace, config: Config) -> int:
    return config.workers if args.workers is None else args.workers


def report_problems(log) -> None:
    for problem in log.problems:
        (logger.error if problem.severity == "error" else logger.warning)("%s", problem)
