"""The Snakemake workflow, run for real on a tiny demo in a copy of the repository."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dnaf.config import Config

from .conftest import REPO

pytestmark = pytest.mark.slow
SMALL = """
datasets:
  demo:
    synthetic: {train_identities: 3, test_identities: 2, poses_per_identity: 3}
"""


def _snakemake(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,  # the demo target on 2 busy cores takes about 10 minutes
    )


@pytest.fixture
def workflow_copy(tmp_path) -> Path:
    for item in ("Snakefile", "workflow", "config", "envs"):
        source = REPO / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / item)
    (tmp_path / "small.yaml").write_text(SMALL)
    return tmp_path


def test_lint_is_clean():
    result = _snakemake(REPO, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_demo_data_stage_runs_from_scratch_and_then_has_nothing_to_do(workflow_copy):
    result = _snakemake(workflow_copy, "--cores", "2", "results/demo/poses", "--configfile", "small.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((workflow_copy / "results/demo/data/check.json").read_text())
    assert report["errors"] == []
    images = (workflow_copy / "results/demo/data/images.csv").read_text().splitlines()
    assert len(images) - 1 == 5 * 3
    assert len(list((workflow_copy / "results/demo/poses").glob("*.png"))) == 15
    for rule in ("make_demo_data", "check_data", "index_data", "render_poses"):
        assert (workflow_copy / "results/logs" / rule).is_dir()
        assert (workflow_copy / "results/benchmarks" / rule).is_dir()
    again = _snakemake(workflow_copy, "--cores", "2", "results/demo/poses", "--configfile", "small.yaml")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_a_data_problem_stops_the_workflow_with_the_report_in_the_log(workflow_copy, tmp_path):
    root = tmp_path / "broken"
    result = _snakemake(workflow_copy, "--cores", "1", "data/demo", "--configfile", "small.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    shutil.move(workflow_copy / "data/demo", root)
    lst = root / "train.lst"
    lst.write_text(lst.read_text() + "../outside.jpg\n")
    override = workflow_copy / "broken.yaml"
    override.write_text(
        f"datasets:\n  market:\n    root: {root}\n    format: deepfashion-csv\n    image_size: [128, 88]\n"
        "    disjoint_identities: true\n    published_counts: null\n"
    )
    result = _snakemake(
        workflow_copy, "--cores", "1", "results/market/data/check.json", "--configfile", "small.yaml", "broken.yaml"
    )
    assert result.returncode != 0
    log = (workflow_copy / "results/logs/check_data/market.log").read_text()
    assert "train.lst: line 10: name '../outside.jpg' contains '..' and would escape the dataset root" in log


TRAIN_SMALL = """
experiments:
  demo:
    train: {max_steps: 3, checkpoint_every: 3, validate_every: 3, validation_pairs: 2, log_every: 1}
    sample: {steps: 2, shards: 2, batch_size: 3}
"""


def test_demo_reaches_the_sampled_test_set_and_resumes_training(workflow_copy):
    (workflow_copy / "train.yaml").write_text(TRAIN_SMALL)
    target = "results/demo/samples/manifest.csv"
    result = _snakemake(workflow_copy, "--cores", "2", target, "--configfile", "small.yaml", "train.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = (workflow_copy / target).read_text().splitlines()
    assert manifest[0] == "source,target,file,seed" and len(manifest) == 1 + 2 * 2  # 2 test ids x 2 pairs
    assert len(list((workflow_copy / "results/demo/samples/images").glob("*.png"))) == 4
    assert (workflow_copy / "results/demo/train/checkpoints/step-0000003").is_dir()
    # more steps: the re-run resumes from the step-3 checkpoint instead of starting over
    (workflow_copy / "train.yaml").write_text(TRAIN_SMALL.replace("max_steps: 3", "max_steps: 4"))
    result = _snakemake(workflow_copy, "--cores", "2", target, "--configfile", "small.yaml", "train.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    log = (workflow_copy / "results/logs/train_model/demo.log").read_text()
    assert "resumed from" in log and "step-0000003 (step 3, epoch " in log


# a phrase of each caption of the Snakemake report, as the report shows it
REPORT_CAPTIONS = {
    "preview": "OpenPose skeletons drawn over",
    "loss": "the optimiser step",
    "metrics": "whose weights could not be had",
    "grid": "the ground truth and DNAF",
    "comparison_table": "the metrics table of DNAF",
    "comparison_grid": "generated by DNAF, each ablation",
    "swap": "should follow the new source",
    "applications": "an artwork as the appearance reference",
}


def test_demo_target_scores_dnaf_the_ablations_and_the_baseline(workflow_copy):
    offline = "experiments:\n  demo:\n    evaluate: {allow_download: false}\n"
    (workflow_copy / "train.yaml").write_text(TRAIN_SMALL + offline.split("\n", 2)[2])
    result = _snakemake(workflow_copy, "--cores", "2", "demo", "--configfile", "small.yaml", "train.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    import jsonschema
    import yaml

    schema = yaml.safe_load((REPO / "workflow/schemas/metrics.schema.yaml").read_text())
    ablations = Config().ablations.variants  # the config owns the list
    runs = {"": "DNAF", **{f"/ablations/{name}": f"DNAF, ablation {name}" for name in ablations},
            "/baselines/copy-source": "copy source (baseline)"}  # fmt: skip
    for variant, method in runs.items():
        metrics = json.loads((workflow_copy / f"results/demo{variant}/metrics.json").read_text())
        jsonschema.validate(metrics, schema)
        assert metrics["method"] == method and metrics["counts"]["generated"] == 4
        assert metrics["fid"] is None and "downloads are off" in metrics["unavailable"]["fid"]
        assert 0 <= metrics["colour_error"] < 1 and set(metrics["colour_error_parts"]) <= {
            "skin",
            "hair",
            "upper",
            "lower",
        }
    for name in ablations:  # each trained with its keys replaced, the others kept
        index = json.loads((workflow_copy / f"results/demo/ablations/{name}/train/model/model_index.json").read_text())
        assert index["model_config"] == Config().experiment("demo", name).model.model_dump(mode="json"), name
    swap = json.loads((workflow_copy / "results/demo/swap/swap.json").read_text())
    assert (
        swap["pairs"] == 4 and swap["error_vs_truth"] >= 0 and (workflow_copy / "results/demo/swap/swap.png").is_file()
    )
    table = (workflow_copy / "results/demo/comparison.md").read_text()
    assert all(f"| {method} |" in table for method in runs.values())
    assert "x the pose-only model's" in table and "swap check (4 pairs" in table
    assert "data:image/png;base64," in (workflow_copy / "results/demo/report.html").read_text()
    assert (workflow_copy / "results/demo/comparison.png").is_file()
    from PIL import Image

    figure = Image.open(workflow_copy / "results/demo/applications.png")
    height, width = 64, 44  # the demo model's frame
    assert figure.size == (8 * (width + 2) + 2, 14 + 3 * (height + 2) + 2)  # 8 columns, 3 pairs

    # Snakemake's own report of the run: every figure and table marked report() in the rules,
    # each with its caption (workflow/report/*.rst)
    report = _snakemake(
        workflow_copy, "--cores", "1", "--report", "report.html", "--configfile", "small.yaml", "train.yaml"
    )
    assert report.returncode == 0, report.stderr[-3000:]
    html = (workflow_copy / "report.html").read_text()
    captions = {path.stem for path in (REPO / "workflow/report").glob("*.rst")} - {"workflow"}
    assert captions == set(REPORT_CAPTIONS)
    for caption, phrase in REPORT_CAPTIONS.items():
        assert phrase in html, caption
