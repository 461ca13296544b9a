"""The app verb: a page in the browser to try a trained model (pose transfer, try-on)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnaf.commands.apply import engine
from dnaf.commands.common import DATASET_HELP, Verbs, logger
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK, UsageError


def _default_model(dataset: str) -> Path:
    """Where the workflow's train_model rule writes ``dataset``'s model."""
    return Path("results") / dataset / "train" / "model"


def _default_index(dataset: str) -> Path:
    """Where the workflow's index_data rule writes ``dataset``'s index."""
    return Path("results") / dataset / "data"


def _choices(args: argparse.Namespace, config: Config, frame: tuple[int, int]):
    """The test set when its index and files are there (an error when they were named but are
    not); else synthetic poses in ``frame``."""
    from dnaf.applications.app.choices import choices_from_test_set, synthetic_poses

    index = args.index or _default_index(args.dataset)
    root = args.root or config.datasets.get(args.dataset).root
    if args.index or args.root or ((index / "images.csv").is_file() and root.is_dir()):
        return choices_from_test_set(index, root)
    logger.info("no index at %s or no dataset at %s: the pose gallery holds synthetic poses", index, root)
    return synthetic_poses(frame=frame)


def app(args: argparse.Namespace, config: Config) -> int:
    from dnaf.applications.app.actions import Actions
    from dnaf.applications.app.page import build_page, serve

    model = args.model or _default_model(args.dataset)
    if not model.is_dir():
        raise UsageError(
            f"{model}: no model folder; give --model (a folder written by `dnaf train`), or run `make demo`, "
            f"which writes {_default_model('demo')}"
        )
    dnaf, guidance, steps = engine(model, args.dataset, config)
    page = build_page(Actions(dnaf, _choices(args, config, dnaf.size)), steps, guidance)
    try:
        serve(page, args.host, args.port)
    except OSError as error:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {error}") from None
    logger.info("press Ctrl-C to stop")
    page.block_thread()
    return EXIT_OK


def register(verbs: Verbs) -> None:
    sub = verbs.add("app", app, "a page in the browser to try a trained model: pose transfer and try-on")
    sub.add_argument("--dataset", default="demo", metavar="NAME",
                     help=f"{DATASET_HELP}; its settings, test pictures and poses (default: %(default)s)")  # fmt: skip
    sub.add_argument("--model", type=Path, help="trained model folder (default: results/<dataset>/train/model)")
    sub.add_argument("--root", type=Path, help="dataset root, for the test pictures (default: the config's)")
    sub.add_argument("--index", type=Path, help="index folder, for the test poses (default: results/<dataset>/data)")
    sub.add_argument("--host", default="127.0.0.1", help="address to serve on (default: %(default)s, this machine)")
    sub.add_argument("--port", type=int, default=7860, help="(default: %(default)s)")
