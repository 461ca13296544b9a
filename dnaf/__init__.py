"""DNAF: Diffusion with Noise-Aware Feature for pose-guided person image synthesis.

``from dnaf import DNAF`` gives the applications' API (pose transfer, try-on) on a trained model.
"""

from dnaf.core.version import __version__

__all__ = ["DNAF", "__version__"]


def __getattr__(name: str):
    if name == "DNAF":  # imported on first use: `dnaf --help` and the config stay light
        from dnaf.applications.api import DNAF

        return DNAF
    raise AttributeError(f"module 'dnaf' has no attribute {name!r}")
