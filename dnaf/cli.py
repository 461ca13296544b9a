"""``dnaf <verb>``: the command line every workflow rule calls.

Each module of dnaf.commands registers its own verbs. Exit codes: 0 success, 1 the data has
problems (all of them are reported), 2 usage or configuration error (dnaf.core.errors).
"""

from __future__ import annotations

import argparse
import logging
import sys

from dnaf.commands import app, apply, data, dvc, evaluate, hub, model, photos, settings, swap, texture
from dnaf.commands.common import Verbs, logger
from dnaf.config_files import load_config
from dnaf.core.errors import ConfigError, DnafError
from dnaf.core.version import __version__

COMMANDS = (data, photos, model, hub, evaluate, swap, texture, apply, app, settings, dvc)
"""The modules whose verbs ``dnaf`` offers, in the order of ``dnaf --help``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dnaf", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dnaf {__version__}")
    verbs = Verbs(parser.add_subparsers(dest="verb", required=True, metavar="VERB"))
    for module in COMMANDS:
        module.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.function(args, load_config(args.config, args.config_json))
    except DnafError as error:  # the one place failures the user can fix become a message and an exit code
        logger.error("%s%s", "configuration error:\n" if isinstance(error, ConfigError) else "", error)
        return error.exit_code
