"""The workflow through workflow/profiles/slurm on a real one-node SLURM cluster started here."""

import re
from collections import Counter

import pytest
import yaml

from .slurm_cluster import LocalSlurm, SlurmUnavailable
from .workflow_copy import REDUCED_DEMO, copy_workflow, run

pytestmark = pytest.mark.slow
# rules the profile sends to its gpu partition, and rules it gives several threads
GPU_PARTITION_RULES = ("train_model", "sample_shard", "fid_real_statistics")
THREADED_RULES = ("make_demo_data", "check_data", "index_data", "render_poses", "train_model")


@pytest.fixture(scope="module")
def slurm():
    try:
        cluster = LocalSlurm.start()
    except SlurmUnavailable as reason:
        pytest.skip(f"no SLURM cluster: {reason}")
    try:
        yield cluster
    finally:
        cluster.stop()


def test_the_demo_runs_through_the_slurm_profile_as_slurm_jobs(slurm, tmp_path):
    workflow = copy_workflow(tmp_path)
    (workflow / "reduced.yaml").write_text(yaml.safe_dump(REDUCED_DEMO))
    # The profile as a site would use it, with this one-node cluster's partition, sizes and lack of
    # an accounting database given on the command line (each replaces the profile's key of the
    # same name; without an account the plugin submits with none).
    result = run(
        workflow,
        "snakemake", "--profile", "workflow/profiles/slurm", "--configfile", "reduced.yaml",
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
        "--default-resources", "slurm_partition=debug", "runtime=30", "mem_mb=1000",
        "--set-resources", *(f"{rule}:slurm_partition=debug" for rule in GPU_PARTITION_RULES),
        "--set-threads", *(f"{rule}=1" for rule in THREADED_RULES),
        "--", "results/demo/samples/manifest.csv",
        **slurm.environment(),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:] + slurm.controller_log.read_text()[-2000:]

    manifest = (workflow / "results/demo/samples/manifest.csv").read_text().splitlines()
    assert len(manifest) == 1 + 4  # 2 test identities x 2 pairs
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: \S+/rule_(\w+)/", output)
    rules = Counter(rule for _, rule in submitted)
    assert rules == {
        "make_demo_data": 1, "check_data": 1, "index_data": 1, "render_poses": 1, "train_model": 1,
        "sample_shard": 2, "gather_samples": 1,
    }  # fmt: skip
    # slurmctld's own record: it started every one of these jobs (at once or through the backfill
    # scheduler) and each ended with exit code 0
    controller = slurm.controller_log.read_text()
    for job_id, rule in submitted:
        lines = [line for line in controller.splitlines() if f"JobId={job_id} " in line]
        assert any(re.search(rf"(sched: Allocate|_start_job: Started) JobId={job_id} ", line) for line in lines), lines
        assert f"_job_complete: JobId={job_id} WEXITSTATUS 0" in controller, rule
