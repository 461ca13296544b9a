"""DNAF: Diffusion with Noise-Aware Feature for pose-guided person image synthesis.

``from dnaf import DNAF`` gives the applications' API (pose transfer, try-on) on a trained model.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "DNAF":  # imported on first use: `dnaf --help` and the config stay light
        from dnaf.applications.api import DNAF

        return DNAF
    raise AttributeError(f"module 'dnaf' has no attribute {name!r}")
