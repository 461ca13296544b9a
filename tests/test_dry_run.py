"""Dry runs of the real-data target, results/deepfashion/metrics.json, against a placeholder
DeepFashion layout: every stage is planned, locally and through the SLURM profile with the 8-GPU
launch layer, with the resources each job would ask SLURM for."""

import re
import shutil

import pytest
import yaml

from .workflow_copy import copy_workflow, job_counts, run

LAYOUT = (
    "train.lst", "test.lst", "fasion-resize-pairs-train.csv", "fasion-resize-pairs-test.csv",
    "fasion-resize-annotation-train.csv", "fasion-resize-annotation-test.csv", "train/", "test/",
)  # fmt: skip
# one training job, the test set in experiments.deepfashion.sample.shards = 4 shards, each scored
EVERY_STAGE = {
    "check_data": 1, "index_data": 1, "render_poses": 1, "train_model": 1, "sample_shard": 4,
    "gather_samples": 1, "fid_real_statistics": 1, "score_shard": 4, "aggregate": 1,
}  # fmt: skip


BASE_MODELS = ("checkpoints/stable-diffusion-v1-5", "checkpoints/swin-base-patch4-window7-224")


@pytest.fixture
def workflow(tmp_path):
    """A copy of the workflow whose DeepFashion root is a layout of empty placeholder files."""
    root = tmp_path / "deepfashion"
    for name in LAYOUT:
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    copy = copy_workflow(tmp_path / "workflow")
    (copy / "placeholder.yaml").write_text(yaml.safe_dump({"datasets": {"deepfashion": {"root": str(root)}}}))
    for base in BASE_MODELS:  # where `dnaf download-models` puts SD1.5 and Swin-B
        (copy / base).mkdir(parents=True)
    return copy


def job_resources(output: str) -> dict[str, list[dict[str, str]]]:
    """rule -> the resources of each of its planned jobs, from a dry run's job listing."""
    jobs: dict[str, list[dict[str, str]]] = {}
    for block in re.finditer(r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", output, re.MULTILINE | re.DOTALL):
        listed = re.search(r"^\s+resources: (.*)$", block[2], re.MULTILINE)
        pairs = (item.split("=", 1) for item in listed[1].split(", ")) if listed else ()
        jobs.setdefault(block[1], []).append(dict(pairs))
    return jobs


def test_a_local_dry_run_plans_every_stage_of_the_real_data_target(workflow):
    result = run(
        workflow, "snakemake", "--profile", "workflow/profiles/default", "--dry-run",
        "--configfile", "placeholder.yaml", "--", "results/deepfashion/metrics.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout) == EVERY_STAGE


def test_through_the_slurm_profile_training_asks_for_8_gpus_and_each_shard_for_one(workflow):
    result = run(
        workflow, "snakemake", "--profile", "workflow/profiles/slurm", "--dry-run",
        "--configfile", "config/launch-8gpu.yaml", "placeholder.yaml", "--", "results/deepfashion/metrics.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout) == EVERY_STAGE
    jobs = job_resources(result.stdout)
    (train,) = jobs["train_model"]
    assert train["gpu"] == "8" and train["slurm_partition"] == "gpu"
    # srun starts its 8 processes (the executor leaves the command unwrapped: mpi), which alone get
    # the signal 15 min before the site's time limit
    assert (train["nodes"], train["tasks_per_node"], train["mpi"]) == ("1", "8", "srun")
    assert (train["runtime"], train["slurm_extra"]) == ("1440", "--signal=USR1@900")
    assert [(shard["gpu"], shard["slurm_partition"]) for shard in jobs["sample_shard"]] == [("1", "gpu")] * 4
    for rule in ("check_data", "index_data", "gather_samples", "aggregate"):
        for job in jobs[rule]:
            assert job["slurm_partition"] == "cpu" and "gpu" not in job, rule


def test_training_and_sampling_declare_the_base_models_they_read(workflow):
    shutil.rmtree(workflow / BASE_MODELS[0])
    result = run(
        workflow, "snakemake", "--dry-run", "--configfile", "placeholder.yaml", "--", "results/deepfashion/metrics.json"
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Missing input files" in output and BASE_MODELS[0] in output
