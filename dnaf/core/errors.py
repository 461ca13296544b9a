"""One error hierarchy: every failure a user can fix is a :class:`DnafError`, whose exit code
`dnaf.cli.main` returns after logging the message once. Code raises the most specific class; a
message names the file, the row or the key, and what is wrong."""

from __future__ import annotations

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2
"""0 success, 1 the data (files, weights, generated images) has problems, 2 usage or configuration."""
EXIT_RESUME = 75
"""Stopped on a signal with a checkpoint written: run the same command again to resume (75 is
sysexits' EX_TEMPFAIL, "try again later")."""


class DnafError(Exception):
    """A failure the message explains; ``exit_code`` is what the command line returns."""

    exit_code = EXIT_DATA


class DataError(DnafError, ValueError):
    """Input files (dataset, images, keypoints, model folders, generated images) cannot be used."""


class UsageError(DnafError, ValueError):
    """Command-line arguments that contradict each other or the files they name."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file or value that cannot be used; the message names the key."""
