"""Sharing verbs: push-to-hub (a trained model with its card, to the Hugging Face Hub) and
download-model (a shared model into a local folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnaf.commands.common import Verbs, logger
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK

TOKEN_HELP = "a Hugging Face token (default: HF_TOKEN, or the one `hf auth login` stored)"


def push_to_hub(args: argparse.Namespace, config: Config) -> int:
    from dnaf.applications.sharing import card_sources, check_repo_id, push_model, stage_model
    from dnaf.io.atomic import atomic_folder

    check_repo_id(args.repo_id)
    grid = args.grid is not None
    sources = card_sources(args.model, args.repo_id, args.metrics, args.train_config, args.dataset, grid)
    if args.stage is not None:
        with atomic_folder(args.stage) as staged:
            stage_model(args.model, staged, sources, args.grid)
        logger.info("wrote what would be uploaded to %s into %s (nothing uploaded)", args.repo_id, args.stage)
        return EXIT_OK
    url = push_model(args.model, args.repo_id, sources, args.grid, args.private, args.token)
    logger.info("uploaded %s to https://huggingface.co/%s (%s)", args.model, args.repo_id, url)
    return EXIT_OK


def download_model(args: argparse.Namespace, config: Config) -> int:
    from dnaf.applications.sharing import download_model as download

    index = download(args.repo_id, args.out, args.revision, args.token)
    logger.info("%s is in %s and loads as a DNAFPipeline (generates %dx%d)", args.repo_id, args.out,
                *index["image_size"])  # fmt: skip
    return EXIT_OK


def register(verbs: Verbs) -> None:
    sub = verbs.add(
        "push-to-hub",
        push_to_hub,
        "upload a trained model folder with its model card (README.md) to the Hugging Face Hub (online)",
    )
    sub.add_argument("--model", type=Path, required=True, help="the model folder (train's out/model)")
    sub.add_argument("--repo-id", required=True, metavar="USER/NAME", help="the Hub repository (created if missing)")
    sub.add_argument("--metrics", type=Path, metavar="JSON", help="results/<dataset>/metrics.json for the card's table")
    sub.add_argument("--grid", type=Path, metavar="PNG", help="a sample picture, uploaded as samples.png")
    sub.add_argument("--dataset", metavar="NAME", help="the dataset it was trained on (default: the metrics')")
    sub.add_argument("--train-config", type=Path, metavar="YAML",
                     help="the run's config.resolved.yaml (default: the one beside --model)")  # fmt: skip
    sub.add_argument("--private", action="store_true", help="create the repository private")
    sub.add_argument("--token", help=TOKEN_HELP)
    sub.add_argument("--stage", type=Path, metavar="DIR",
                     help="write the folder that would be uploaded (model + README.md + samples.png) here, and "
                     "upload nothing: to read the card first")  # fmt: skip

    sub = verbs.add(
        "download-model",
        download_model,
        "download a DNAF model shared on the Hub into a folder and check that it loads (online; not the base "
        "models: that is download-models)",
    )
    sub.add_argument("repo_id", metavar="USER/NAME", help="the Hub repository")
    sub.add_argument("--out", type=Path, required=True, help="the model folder to write")
    sub.add_argument("--revision", help="a branch, tag or commit (default: main)")
    sub.add_argument("--token", help=TOKEN_HELP)
