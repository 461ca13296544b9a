"""Where a dataset lives and what its files must look like: the data layer's own configuration
(the root ``dnaf.config.Config`` holds one per dataset name)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from dnaf.core.settings import Size, StrictModel

Split = Literal["train", "test"]
IdentityRule = Literal["deepfashion", "prefix"]
SPLITS: tuple[Split, ...] = ("train", "test")


class PublishedCounts(StrictModel):
    """Counts of the split every paper uses (docs/data.md); a difference is reported as a warning."""

    train_images: PositiveInt
    test_images: PositiveInt
    train_pairs: PositiveInt
    test_pairs: PositiveInt


class SyntheticConfig(StrictModel):
    """Parameters of the embedded synthetic dataset (``dnaf make-demo-data``)."""

    seed: int = 0
    train_identities: PositiveInt = 300
    test_identities: PositiveInt = 50
    poses_per_identity: int = Field(6, ge=2)
    test_pairs_per_identity: PositiveInt = 2
    patterns: Literal["demo", "rich"] = "demo"
    """demo: solid, striped or checked upper garments, the stripes finer than the demo's 4x4-pixel
    patches; rich (the texture study): every upper garment striped or checked at a random period
    (6-12 pixels at 64x44), orientation and phase, with a small logo at a random place."""


class DatasetConfig(StrictModel):
    """Where a dataset lives and what its files must look like."""

    format: Literal["deepfashion-csv", "deepfashion-nted", "market"]
    root: Path
    image_size: Size
    """(height, width) every image on disk must have."""
    keypoint_frame: Size | None = None
    """(height, width) the annotation coordinates refer to; null = image_size. Not used by the
    NTED layout, whose pose files have their own fixed frame."""
    image_dirs: dict[Split, str] = Field(default_factory=lambda: {"train": "train", "test": "test"})
    """Folder (under root) holding each split's images by name; not used by the NTED layout."""
    skeleton_size: Size
    """(height, width) of the rendered skeleton images."""
    disjoint_identities: bool
    """Whether train and test identities must not overlap (true for Market-1501)."""
    identity: IdentityRule | None = None
    """How an image name gives its person; null = the layout's own rule (deepfashion for the
    DeepFashion layouts, prefix for Market-1501)."""
    published_counts: PublishedCounts | None = None
    synthetic: SyntheticConfig | None = None
    """Set only for the generated demo dataset."""

    @model_validator(mode="after")
    def _check_layout_keys(self) -> DatasetConfig:
        if self.format == "deepfashion-nted" and self.keypoint_frame is not None:
            raise ValueError("keypoint_frame must be null for the NTED layout (its pose files fix the frame)")
        if self.synthetic is not None and self.format == "market":
            raise ValueError("synthetic data is written in a DeepFashion layout, not 'market'")
        return self

    @property
    def identity_rule(self) -> IdentityRule:
        return self.identity or ("prefix" if self.format == "market" else "deepfashion")

    @property
    def frame(self) -> tuple[int, int]:
        """The (height, width) keypoints are normalised by."""
        return self.keypoint_frame or self.image_size
