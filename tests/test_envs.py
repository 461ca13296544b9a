"""The conda environments pin exactly what the tested pip sets pin, in a form Snakemake can build
(it creates an environment from a copy of the file, so no path may be relative), and every rule
names one of them. No conda here: the environments themselves are not built by these tests."""

import re
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

ENVS = REPO / "envs"


def requirement_lines(path: Path) -> list[str]:
    """The pins of a pip requirements file, following its `-r` includes, in order."""
    lines = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        elif line:
            lines.append(line)
    return lines


@pytest.mark.parametrize(
    ("environment", "requirements"), [("dnaf", "requirements"), ("dnaf-cuda", "requirements-cuda")]
)
def test_conda_environment_pins_its_pip_set(environment, requirements):
    document = yaml.safe_load((ENVS / f"{environment}.yaml").read_text())
    assert document["name"] == environment
    assert document["channels"] == ["conda-forge", "nodefaults"]
    conda, pip = [], []
    for item in document["dependencies"]:
        if isinstance(item, dict):
            pip += item["pip"]
        else:
            conda.append(item)
    assert conda == ["python=3.11", "pip"]  # the Python the pip set is tested with
    assert pip == requirement_lines(ENVS / f"{requirements}.txt")
    assert not [line for line in pip if line.startswith("-")], "no -r/-e: Snakemake builds from a copy elsewhere"
    # ... and installs the dnaf package afterwards, from the working copy
    post_deploy = (ENVS / f"{environment}.post-deploy.sh").read_text()
    assert "pip install --no-deps --editable ." in post_deploy


def test_every_rule_environment_exists():
    named = set()
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        named |= set(re.findall(r'"(\.\./\.\./envs/[^"]+)"', rules.read_text()))
    assert named == {"../../envs/dnaf.yaml", "../../envs/dnaf-cuda.yaml"}
    for path in named:
        assert (REPO / "workflow" / "rules" / path).resolve().is_file(), path


def test_the_pose_set_is_installed_without_its_dependencies_and_numpy_stays_2():
    """mediapipe 0.10.21 asks for numpy<2: every install path takes envs/requirements-pose.txt with
    --no-deps, after the runtime set, so numpy stays the runtime set's 2.x."""
    from importlib.metadata import version

    pins = dict(line.split("==") for line in requirement_lines(ENVS / "requirements-pose.txt"))
    assert pins["mediapipe"] == version("mediapipe") == "0.10.21"
    assert pins["protobuf"] == version("protobuf")
    assert version("numpy").split(".")[0] == "2"
    makefile = (REPO / "Makefile").read_text()
    assert "--no-deps -r envs/requirements-pose.txt" in makefile
    assert makefile.index("-r envs/requirements.txt") < makefile.index("-r envs/requirements-pose.txt")
    assert "pip install --no-deps -r envs/requirements-pose.txt" in (ENVS / "dnaf.post-deploy.sh").read_text()
