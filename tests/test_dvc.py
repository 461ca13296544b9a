"""dvc.yaml: the Snakemake workflow's DAG (checked against it), and `dvc repro` run for real on the
reduced demo in a temporary git repository holding a copy of the working tree."""

import csv
import json
import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

from dnaf.config import Experiment, load_config

from .conftest import REPO
from .workflow_copy import REDUCED_DEMO, copy_repository, copy_workflow, job_counts, layer_config, run

COMMAND = re.compile(r"snakemake --cores all --rerun-incomplete --allowed-rules (?P<rules>[\w ]+) -- (?P<target>\S+)")


def dvc_stages(repository: Path) -> dict:
    """Every stage of dvc.yaml as DVC resolves it (foreach expanded): name -> stage."""
    from dvc.repo import Repo

    with Repo(str(repository)) as repo:
        return {stage.name: stage for stage in repo.index.stages}


def stage_params(stage) -> list[str]:
    return [key for dep in stage.deps if hasattr(dep, "params") for key in dep.params]


def test_each_stage_asks_snakemake_for_its_own_outputs_and_covers_the_demo_dag(tmp_path):
    stages = dvc_stages(REPO)
    allowed = set()
    for name, stage in stages.items():
        command = COMMAND.fullmatch(stage.cmd)
        assert command, f"{name}: {stage.cmd}"
        allowed |= set(command["rules"].split())
        target = PurePosixPath(command["target"])
        outs = [PurePosixPath(str(out.def_path)) for out in stage.outs]
        assert any(target == out or out in target.parents for out in outs), f"{name}: {target} is not among {outs}"
    workflow = copy_workflow(tmp_path)
    dry_run = run(workflow, "snakemake", "--cores", "1", "--dry-run", "--forceall", "demo")
    assert dry_run.returncode == 0, dry_run.stderr[-2000:]
    demo_rules = set(job_counts(dry_run.stdout)) - {"demo"}
    assert demo_rules <= allowed, f"rules of the demo that no DVC stage runs: {sorted(demo_rules - allowed)}"
    listed = run(workflow, "snakemake", "--list-rules")
    assert allowed <= set(listed.stdout.split()), "a DVC stage allows a rule the workflow does not have"


def test_stage_params_are_keys_of_the_resolved_config_and_match_what_the_rules_receive():
    resolved = load_config([REPO / "config" / "config.yaml"]).model_dump(mode="json")
    stages = dvc_stages(REPO)
    for name, stage in stages.items():
        for key in stage_params(stage):
            node = resolved
            for part in key.split("."):
                assert part in node, f"{name}: {key} is not a key of the resolved config"
                node = node[part]
    # training and sampling receive the dataset and the experiment less its evaluate part
    # (experiment_json in workflow/rules/common.smk): the same keys re-run them under DVC
    experiment = {f"experiments.demo.{part}" for part in Experiment.model_fields if part != "evaluate"}
    for name in ("train_model@demo", "sample@demo", "train_model@demo-no-noise-aware"):
        assert set(stage_params(stages[name])) == {"datasets.demo"} | experiment, name
    # the datasets DVC builds read their raw files where the config puts them
    variables = {k: v for item in yaml.safe_load((REPO / "dvc.yaml").read_text())["vars"] for k, v in item.items()}
    for dataset, root in variables["datasets"].items():
        assert root == resolved["datasets"][dataset]["root"], dataset
    for name, run_vars in (variables["runs"] | variables["scored"]).items():
        assert run_vars["root"] == resolved["datasets"][run_vars["dataset"]]["root"], name


def _git(cwd: Path, *args: str) -> None:
    identity = ["-c", "user.name=dnaf tests", "-c", "user.email=tests@dnaf.invalid"]
    subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True)


def _repro(clone: Path, *targets: str) -> tuple[list[str], str]:
    """Run `dvc repro`; the stages it ran, in order, and its output."""
    result = run(clone, "dvc", "repro", *targets, timeout=1500)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return re.findall(r"^Running stage '([^']+)':", output, flags=re.MULTILINE), output


@pytest.mark.slow
def test_dvc_repro_builds_the_demo_then_does_nothing_then_reruns_what_a_training_parameter_feeds(tmp_path):
    clone = copy_repository(tmp_path / "clone")
    layer_config(clone / "config" / "config.yaml", REDUCED_DEMO)
    _git(clone, "init", "--quiet")
    _git(clone, "add", "--all")
    _git(clone, "commit", "--quiet", "-m", "the working tree with a reduced demo")

    # a fresh clone: every stage runs, the demo's results appear
    ran, _ = _repro(clone)
    assert sorted(ran) == sorted(dvc_stages(clone)) and ran[0] == "resolve_config"
    for name in ("metrics.json", "report.html", "comparison.md", "applications.png", "data/preview.png"):
        assert (clone / "results/demo" / name).is_file(), name
    metrics = json.loads(run(clone, "dvc", "metrics", "show", "--json").stdout)
    shown = json.dumps(metrics)
    for run_dir in ("results/demo", "results/demo/ablations/no-noise-aware", "results/demo/baselines/copy-source"):
        assert f'"{run_dir}/metrics.json"' in shown and '"ssim"' in shown
    snakemake = run(clone, "snakemake", "--cores", "1", "--dry-run", "demo")  # DVC left it nothing to redo
    assert "Nothing to be done" in snakemake.stdout + snakemake.stderr
    plots = run(clone, "dvc", "plots", "show", "--json")
    assert plots.returncode == 0 and "train_log.csv" in plots.stdout, plots.stderr[-2000:]
    locked = yaml.safe_load((clone / "dvc.lock").read_text())["stages"]
    _git(clone, "add", "dvc.lock")
    _git(clone, "commit", "--quiet", "-m", "the demo's results")

    # nothing changed: nothing runs
    ran, output = _repro(clone)
    assert ran == [] and "Data and pipelines are up to date." in output

    # one more training step: training and what it feeds re-run, the data stages do not
    data = [clone / "data/demo/train.lst", *sorted((clone / "results/demo/data").iterdir())]
    data_times = [path.stat().st_mtime_ns for path in data]
    layer_config(clone / "config" / "config.yaml", {"experiments": {"demo": {"train": {"max_steps": 4}}}})
    ran, output = _repro(clone, "score@demo")
    assert ran == ["resolve_config", "train_model@demo", "sample@demo", "score@demo"]
    for stage in (
        "make_demo_data",
        "check_data@demo",
        "index_data@demo",
        "render_poses@demo",
        "fid_real_statistics@demo",
    ):
        assert f"Stage '{stage}' didn't change, skipping" in output
    assert [path.stat().st_mtime_ns for path in data] == data_times
    log = list(csv.DictReader((clone / "results/demo/train/train_log.csv").open()))
    assert [int(row["step"]) for row in log] == [1, 2, 3, 4]
    # dvc.lock records the new value, and nothing new for the data stages
    lock = yaml.safe_load((clone / "dvc.lock").read_text())["stages"]
    expected = json.loads(json.dumps(locked["train_model@demo"]["params"]))
    expected["results/config.resolved.yaml"]["experiments.demo.train"]["max_steps"] = 4
    assert lock["train_model@demo"]["params"] == expected
    for stage in ("make_demo_data", "check_data@demo", "index_data@demo", "render_poses@demo"):
        assert lock[stage] == locked[stage], stage
    # the rest of the pipeline now waits for its re-run: the ablation's training and what follows
    status = json.loads(run(clone, "dvc", "status", "--json").stdout)
    assert "train_model@demo-no-noise-aware" in status and "compare_runs" in status
    assert not {"make_demo_data", "check_data@demo", "render_poses@demo", "copy_source@demo"} & set(status)
