"""The package version, recorded in every checkpoint, model folder and metrics.json."""

__version__ = "0.1.0"
