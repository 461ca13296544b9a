"""The rehearsal's training on a real two-node SLURM cluster started here (tests/slurm_cluster.py:
two slurmd, each in a network namespace with its own host name), through workflow/profiles/slurm
and config/launch-multinode.yaml: one job over both nodes, identical to the same training as two
processes on one node; across time limits; through a killed node."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest
import yaml

from .slurm_cluster import LocalSlurm, SlurmUnavailable
from .workflow_copy import copy_workflow, run, tool_environment

pytestmark = pytest.mark.slow

STEPS = 40
# The rehearsal (latent space, bf16, the pretrained path on seeded random weights) trained for
# longer than a one-minute allocation with its warning leaves it: about 1.3 s a step on these 2
# cores after 13 s of start-up, against SIGUSR1 29-59 s in. A checkpoint every 5 steps and one
# validation grid at the end.
LAYER = {
    "experiments": {
        "rehearsal": {
            "train": {"max_steps": STEPS, "checkpoint_every": 5, "keep_checkpoints": 2, "validate_every": STEPS},
            "sample": {"shards": 2},
        }
    },
    "rehearsal": {"resume_step": 35},  # a kept checkpoint (the resume check is not run here)
}
TRAIN = "results/rehearsal/train"


@pytest.fixture(scope="module")
def cluster():
    try:
        slurm = LocalSlurm.start(nodes=2)
    except SlurmUnavailable as reason:
        pytest.skip(f"no SLURM cluster: {reason}")
    try:
        yield slurm
    finally:
        slurm.stop()


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    folder = copy_workflow(tmp_path_factory.mktemp("multinode"))
    (folder / "test.yaml").write_text(yaml.safe_dump(LAYER))
    return folder


def snakemake(cluster: LocalSlurm, target: str, *resources: str) -> list[str]:
    """The workflow through the SLURM profile from the first node (the login node here), with the
    test cluster's partition, sizes and squeue as status command; ``resources`` add to those."""
    return cluster.login(
            "snakemake", "--profile", "workflow/profiles/slurm",
            "--configfile", "config/rehearsal.yaml", "config/launch-multinode.yaml", "test.yaml",
            "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
            "--seconds-between-status-checks", "2",
            "--default-resources", "slurm_partition=debug", "runtime=30", "mem_mb=1000",
            "--set-threads", "make_demo_data=1", "check_data=1", "index_data=1", "render_poses=1",
            "--set-resources", "fid_real_statistics:slurm_partition=debug", "sample_shard:slurm_partition=debug",
            "sample_shard:cpus_per_task=2",  # a whole node each: the two shards land on both
            "train_model:slurm_partition=debug", *resources, "--", target,
    )  # fmt: skip


def submitted(output: str, rule: str) -> list[str]:
    return re.findall(rf"has been submitted with SLURM jobid (\d+) \(log: \S+/rule_{rule}/", output)


def allocated_nodes(cluster: LocalSlurm, job: str) -> set[str]:
    """The nodes slurmctld's log says it started ``job`` on."""
    lines = [line for line in cluster.controller_log.read_text().splitlines() if f"JobId={job} " in line]
    nodes = {name for line in lines for name in re.findall(r"NodeList=(\S+)", line)}
    return {node for listed in nodes for node in _expand(listed)}


def _expand(nodes: str) -> list[str]:
    """nodea,nodeb or node[a-b] -> the names (only the forms these two node names take)."""
    if "[" not in nodes:
        return nodes.split(",")
    prefix, inside = nodes.rstrip("]").split("[")
    first, last = inside.split("-")
    return [f"{prefix}{chr(c)}" for c in range(ord(first), ord(last) + 1)]


def starts(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "starts.jsonl").read_text().splitlines()]


def same_model(first: Path, second: Path, out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "dnaf", "compare-models", str(first), str(second), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(out.read_text())


# The cluster itself, before the training: a task on each node, and torch.distributed between them.
ALL_REDUCE = """import json, socket, sys
from pathlib import Path
import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank, total = dist.get_rank(), torch.tensor([float(dist.get_rank())])
dist.all_reduce(total)
host = socket.gethostname()
record = {"rank": rank, "world": dist.get_world_size(), "sum": total.item(), "host": host,
          "address": socket.gethostbyname(host)}
Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps(record))
dist.destroy_process_group()
"""


def batch_job(cluster: LocalSlurm, folder: Path, script: str, timeout: float = 300) -> tuple[str, str]:
    """``script`` as a batch job over both nodes, one task each, submitted from the login node; its
    id and output once it has ended with exit code 0 (squeue asked every 0.5 s: ``sbatch --wait``
    looks only every 10 s). Its batch step runs on the first node."""
    (folder / "job.sh").write_text(f"#!/bin/bash\nset -eu\n{script}\n")
    environment = tool_environment(**cluster.environment())
    submit = cluster.login(
        "sbatch", "--parsable", "--nodes=2", "--ntasks-per-node=1", "--time=3", f"--output={folder / 'job.out'}",
        str(folder / "job.sh"),
    )  # fmt: skip
    job = subprocess.run(submit, cwd=folder, env=environment, capture_output=True, text=True, check=True).stdout
    job = job.strip().split(";")[0]
    deadline = time.monotonic() + timeout
    queued = cluster.login("squeue", "--noheader", f"--jobs={job}")
    while subprocess.run(queued, env=environment, capture_output=True, text=True).stdout.strip():
        assert time.monotonic() < deadline, f"job {job} still queued after {timeout:.0f} s"
        time.sleep(0.5)
    output = (folder / "job.out").read_text() if (folder / "job.out").is_file() else ""
    controller = cluster.controller_log.read_text()
    assert f"_job_complete: JobId={job} WEXITSTATUS 0" in controller, output + controller[-3000:]
    return job, output


def test_a_job_over_both_nodes_runs_a_task_on_each_host(cluster, tmp_path):
    job, output = batch_job(cluster, tmp_path, "srun bash -c 'echo $SLURM_NODEID $(hostname) $SLURM_JOB_NODELIST'")
    listed = ",".join(node.name for node in cluster.nodes)
    tasks = sorted(line.split() for line in output.splitlines())
    assert tasks == [[str(rank), node.name, listed] for rank, node in enumerate(cluster.nodes)], output
    assert allocated_nodes(cluster, job) == {node.name for node in cluster.nodes}


def test_torch_distributed_all_reduces_across_both_nodes(cluster, tmp_path):
    """torch.distributed.run on each node (SLURM's node id as its node rank, the job's first host
    as the rendezvous), gloo between them: the two ranks meet over the nodes' own network."""
    program = tmp_path / "all_reduce.py"
    program.write_text(ALL_REDUCE)
    script = (  # \$SLURM_NODEID: each task's own, in the shell srun starts on its node
        'master=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)\n'
        f'srun bash -c "exec {sys.executable} -m torch.distributed.run --nnodes 2 --nproc_per_node 1 '
        f"--node_rank \\$SLURM_NODEID --master_addr $master --master_port 29511 "
        f'{program} {tmp_path}"'
    )
    batch_job(cluster, tmp_path, script)
    records = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [(r["rank"], r["world"], r["sum"]) for r in records] == [(0, 2, 1.0), (1, 2, 1.0)]
    assert [(r["host"], r["address"]) for r in records] == [(node.name, node.address) for node in cluster.nodes]


@pytest.fixture(scope="module")
def multinode_run(cluster, workflow):
    """Data, base models, the training as one job over both nodes, and the sampling shards."""
    started = time.monotonic()
    result = run(workflow, *snakemake(cluster, "results/rehearsal/samples/manifest.csv"), **cluster.environment())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:] + cluster.controller_log.read_text()[-3000:]
    reference = workflow / "reference"
    shutil.copytree(workflow / TRAIN / "model", reference)
    return output, reference, time.monotonic() - started


def test_training_runs_as_one_job_over_both_nodes(cluster, workflow, multinode_run):
    output, _, _ = multinode_run
    (job,) = submitted(output, "train_model")
    assert allocated_nodes(cluster, job) == {"nodea", "nodeb"}
    assert f"_job_complete: JobId={job} WEXITSTATUS 0" in cluster.controller_log.read_text()
    (start, end) = starts(workflow / TRAIN)
    assert sorted(start["hosts"]) == ["nodea", "nodeb"] and start["processes"] == 2
    assert (start["slurm_job"], end["event"], end["step"]) == (job, "finished", STEPS)
    # the sampling shards, one job each, ran on both nodes between them
    shards = submitted(output, "sample_shard")
    assert len(shards) == 2
    assert set().union(*(allocated_nodes(cluster, shard) for shard in shards)) == {"nodea", "nodeb"}


def test_the_multinode_training_equals_two_processes_on_one_node(workflow, multinode_run):
    _, reference, _ = multinode_run
    local = workflow / "local"
    result = run(
        workflow,
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_machines", "1",
        "--num_processes", "2", "--dynamo_backend", "no", "-m", "dnaf", "train", "--dataset", "rehearsal",
        "--root", "data/rehearsal", "--index", "results/rehearsal/data", "--poses", "results/rehearsal/poses",
        "--out", str(local), "--config", "config/rehearsal.yaml", "--config", "test.yaml",
        CUDA_VISIBLE_DEVICES="",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert same_model(reference, local / "model", workflow / "local.json")["identical"]


def _allocations(history: list[dict]) -> list[tuple[dict, dict | None]]:
    """(start, its end or None when the allocation died) for each start in starts.jsonl."""
    pairs = []
    for record in history:
        if record["event"] == "start":
            pairs.append((record, None))
        else:
            pairs[-1] = (pairs[-1][0], record)
    return pairs


def test_a_training_longer_than_its_time_limit_goes_on_in_the_next_allocation(cluster, workflow, multinode_run):
    """A one-minute limit with SIGUSR1 1 s before it. slurmctld checks time limits every 30 s and
    sends the warning at the first check within the lead plus 30 s of the end (measured here: a
    lead of 1 s gave it 57 s in, 10 s gave 27 s, the limit's SIGTERM came 87 s in), so 29-59 s in,
    when the processes are training. Each allocation stops after a step with a checkpoint, the
    profile submits the job again, and the last one ends with the weights of the uninterrupted run."""
    _, reference, _ = multinode_run
    shutil.rmtree(workflow / TRAIN)
    command = snakemake(cluster, f"{TRAIN}/model", "train_model:runtime=1", "train_model:slurm_extra='--signal=USR1@1'")
    result = run(workflow, *command, **cluster.environment())
    output = result.stdout + result.stderr
    (workflow / "time-limit.out").write_text(output)  # every attempt's log (show-failed-logs), for a failure
    assert result.returncode == 0, output[-4000:] + cluster.controller_log.read_text()[-3000:]

    jobs = submitted(output, "train_model")
    allocations = _allocations(starts(workflow / TRAIN))
    assert len(allocations) >= 2 and [start["slurm_job"] for start, _ in allocations] == jobs
    assert allocations[0][0]["step"] == 0
    for (_, stopped), (resumed, _) in zip(allocations, allocations[1:], strict=False):
        assert stopped["event"] == "stopped" and stopped["signal"] in ("SIGUSR1", "SIGTERM")
        assert 0 < stopped["step"] < STEPS and resumed["step"] == stopped["step"]
    assert allocations[-1][1]["event"] == "finished" and allocations[-1][1]["step"] == STEPS
    assert same_model(reference, workflow / TRAIN / "model", workflow / "time-limit.json")["identical"]


def _training_process(cluster: LocalSlurm, node: int) -> psutil.Process:
    """The `dnaf train` process running on a node (in its network namespace)."""
    listed = subprocess.run(["ip", "netns", "pids", cluster.nodes[node].namespace], capture_output=True, text=True)
    for pid in map(int, listed.stdout.split()):
        try:
            command = psutil.Process(pid).cmdline()
        except psutil.NoSuchProcess:
            continue
        if command[1:4] == ["-m", "dnaf", "train"]:
            return psutil.Process(pid)
    raise AssertionError(f"no training process on {cluster.nodes[node].name}")


def test_a_killed_node_ends_the_job_at_once_and_the_retry_resumes(cluster, workflow, multinode_run):
    """The training process of the second node killed (SIGKILL) after step 12: its peer's next
    all-reduce fails and srun (--kill-on-bad-exit) ends the step, so the job ends within seconds,
    not at its time limit; the profile submits it again, which resumes from the step-10
    checkpoint and ends with the weights of the uninterrupted run."""
    _, reference, _ = multinode_run
    shutil.rmtree(workflow / TRAIN)
    log = workflow / TRAIN / "train_log.jsonl"
    launched = subprocess.Popen(
        snakemake(cluster, f"{TRAIN}/model", "train_model:runtime=30"), cwd=workflow,
        env=tool_environment(**cluster.environment()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not log.is_file() or len(log.read_text().splitlines()) < 12:
            assert launched.poll() is None and time.monotonic() < deadline, launched.communicate()[0][-4000:]
            time.sleep(0.2)
        _training_process(cluster, 1).kill()
        killed = datetime.now()
        output, _ = launched.communicate(timeout=900)
    finally:
        if launched.poll() is None:
            launched.kill()
    assert launched.returncode == 0, output[-4000:] + cluster.controller_log.read_text()[-3000:]

    first, second = submitted(output, "train_model")
    ended = next(
        line for line in cluster.controller_log.read_text().splitlines() if f"_job_complete: JobId={first} " in line
    )
    assert "WEXITSTATUS 0" not in ended
    waited = (datetime.fromisoformat(ended[1:24]) - killed).total_seconds()
    logging.getLogger(__name__).info("the job ended %.1f s after a node's training process was killed", waited)
    assert waited < 60, ended
    (died, _), (resumed, finished) = _allocations(starts(workflow / TRAIN))
    assert (died["slurm_job"], resumed["slurm_job"]) == (first, second)
    assert 10 <= resumed["step"] < STEPS and finished["event"] == "finished"
    assert same_model(reference, workflow / TRAIN / "model", workflow / "killed.json")["identical"]
