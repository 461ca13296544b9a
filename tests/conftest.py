from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image

from dnaf.cli import main
from dnaf.config import Config
from dnaf.data.config import SyntheticConfig
from dnaf.demo.generate import write_demo_dataset

REPO = Path(__file__).resolve().parents[1]
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
SMALL_DEMO = SyntheticConfig(
    seed=3,
    train_identities=4,
    test_identities=2,
    poses_per_identity=3,
    test_pairs_per_identity=2,
)


@pytest.fixture(scope="session")
def demo_size() -> tuple[int, int]:
    return Config().datasets.demo.image_size


@pytest.fixture(scope="session")
def small_demo_csv(tmp_path_factory, demo_size) -> Path:
    root = tmp_path_factory.mktemp("demo") / "csv"
    write_demo_dataset(root, SMALL_DEMO, demo_size, "csv", workers=1)
    return root


@pytest.fixture(scope="session")
def small_demo_nted(tmp_path_factory, demo_size) -> Path:
    root = tmp_path_factory.mktemp("demo") / "nted"
    write_demo_dataset(root, SMALL_DEMO, demo_size, "nted", workers=1)
    return root


@pytest.fixture(scope="session")
def demo_index_dir(small_demo_csv, tmp_path_factory) -> Path:
    """The small demo dataset's index (images.csv, pairs.csv), as training reads it."""
    from dnaf.data.load import inspect_dataset

    index, _ = inspect_dataset(Config().datasets.demo, small_demo_csv, workers=1)
    folder = tmp_path_factory.mktemp("index")
    index.save(folder)
    return folder


@pytest.fixture
def demo_copy(small_demo_csv, tmp_path) -> Path:
    """A private copy of the small demo dataset (CSV layout) that a test may damage."""
    root = tmp_path / "demo"
    shutil.copytree(small_demo_csv, root)
    return root


@pytest.fixture
def real_fixtures() -> Path:
    if not REAL_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures/real is not present (it is not part of a user's clone)")
    return REAL_FIXTURES


def write_market(root: Path, ids: dict[str, list[str]], size: tuple[int, int] = (128, 64)) -> None:
    """A tiny Market-1501 layout: ``ids`` maps split -> person ids; two images per person, one pair each."""
    for split, persons in ids.items():
        (root / split).mkdir(parents=True, exist_ok=True)
        annotation = ["name:keypoints_y:keypoints_x"]
        pairs = ["from,to"]
        for person in persons:
            camera = 1 if split == "train" else 2
            names = [f"{person}_c{camera}s1_000{k}01_01.jpg" for k in (1, 2)]
            for k, name in enumerate(names):
                Image.new("RGB", (size[1], size[0]), (40 * k, 90, 160)).save(root / split / name)
                ys = [10 + 5 * j for j in range(18)]
                xs = [20 + k] * 18
                annotation.append(f"{name}: {ys}: {xs}")
            pairs.append(f"{names[0]},{names[1]}")
        (root / f"market-annotation-{split}.csv").write_text("\n".join(annotation) + "\n")
        (root / f"market-pairs-{split}.csv").write_text("\n".join(pairs) + "\n")


class CliResult:
    def __init__(self, code: int, records: list[logging.LogRecord]) -> None:
        self.code = code
        self.messages = [r.getMessage() for r in records]
        self.text = "\n".join(self.messages)

    def errors(self) -> list[str]:
        return [m for m in self.messages if m.startswith("ERROR ")]


@pytest.fixture
def run_cli(caplog):
    """Run ``dnaf`` in-process; returns the exit code and the logged messages."""

    def run(*argv: str) -> CliResult:
        caplog.clear()
        caplog.set_level(logging.INFO)
        code = main([str(a) for a in argv])
        return CliResult(code, caplog.records)

    return run
