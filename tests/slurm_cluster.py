"""A SLURM cluster on this machine, for the SLURM tests: Debian's slurm-wlm and munge (installed
with apt-get when missing), their daemons started from a configuration written into a folder of
their own, and stopped by their process ids.

One node: this machine, as slurmd sees it. Two nodes: each slurmd in a network namespace of its own
(``dnafslurm-a``, ``dnafslurm-b``, joined by a veth pair with the addresses 10.77.0.1 and 10.77.0.2,
which exist only inside them), with its own host name (a UTS namespace) and an /etc/hosts naming
both (bind-mounted in a mount namespace of its own); slurmctld runs on the first. So each node is
its own host to SLURM and to torch.distributed, and jobs on it see only its network. Debian's
slurm-wlm 22.05 is built with --enable-multiple-slurmd (``scontrol show config``: MULTIPLE_SLURMD
= Yes): two slurmd started with ``-N`` and a Port= each do run as two nodes, but on one host, whose
name and address both report, so torch.distributed would see one machine.
``nsenter --net`` enters only the network namespace: ``ip netns exec`` would also mount a new /sys,
hiding the cgroup file systems slurmd needs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("slurm-wlm", "munge")
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
# Where srun looks for the configuration inside a job: the executor plugin starts each job's
# command through srun with the SLURM_* variables cleared, SLURM_CONF included.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
PREFIX = "dnaf-slurm-"
NAMESPACE_PREFIX = "dnafslurm-"
NETNS = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")  # where per-namespace /etc files live (ip netns' convention)
SUBNET = "10.77.0"


class SlurmUnavailable(RuntimeError):
    """This machine cannot run the test cluster; the message says why."""


def check_can_run() -> None:
    if not sys.platform.startswith("linux"):
        raise SlurmUnavailable("SLURM runs on Linux only")
    if os.geteuid() != 0:
        raise SlurmUnavailable("installing SLURM and starting its daemons needs root")
    _remove_abandoned()
    if SYSTEM_CONF.is_symlink() and not SYSTEM_CONF.exists() and SYSTEM_CONF.resolve().parent.name.startswith(PREFIX):
        SYSTEM_CONF.unlink()  # left by a test run that was killed before it could clean up
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        raise SlurmUnavailable(f"{SYSTEM_CONF} exists: this machine has a SLURM set-up of its own, left alone")


def _remove_abandoned() -> None:
    """The clusters of test runs that were killed (their owner process is gone): their daemons
    stopped by pid, their namespaces, files and configuration link removed. A running test's
    cluster is left alone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner = folder / "owner.pid"
        if not owner.is_file() or _alive(int(owner.read_text())):
            continue
        LocalSlurm(folder, NODES if any(folder.glob("slurmd-node*.pid")) else ()).stop()


def install() -> None:
    """apt-get install slurm-wlm and munge unless their programs are already there."""
    if all(shutil.which(name, path=_sbin_path()) for name in PROGRAMS):
        return
    if not shutil.which("apt-get"):
        raise SlurmUnavailable("slurm-wlm and munge are not installed and there is no apt-get to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise SlurmUnavailable(f"`{' '.join(command)}` failed: {(result.stdout + result.stderr)[-1500:]}")


def _sbin_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _program(name: str) -> str:
    path = shutil.which(name, path=_sbin_path())
    if path is None:
        raise SlurmUnavailable(f"{name} is not installed")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _node_line() -> str:
    """This machine as slurmd sees it: NodeName=<short host name> CPUs=... RealMemory=..."""
    return subprocess.run([_program("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]


@dataclass(frozen=True)
class Node:
    """A compute node in a network namespace of its own."""

    name: str
    address: str

    @property
    def namespace(self) -> str:
        return f"{NAMESPACE_PREFIX}{self.name[-1]}"

    def command(self, *args: str) -> list[str]:
        """``args`` run on this node: its network, host name and /etc/hosts."""
        hosts = NETNS_ETC / self.namespace / "hosts"
        setup = f'mount --bind {hosts} /etc/hosts && hostname {self.name} && exec "$@"'
        return [
            "nsenter", f"--net={NETNS / self.namespace}", "unshare", "--uts", "--mount", "--propagation", "private",
            "sh", "-c", setup, "sh", *args,
        ]  # fmt: skip


NODES = (Node("nodea", f"{SUBNET}.1"), Node("nodeb", f"{SUBNET}.2"))


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _remove_namespaces() -> None:
    """Our namespaces (also a killed run's): their processes killed, then the namespaces and files."""
    for path in NETNS.glob(f"{NAMESPACE_PREFIX}*") if NETNS.is_dir() else []:
        pids = subprocess.run(["ip", "netns", "pids", path.name], capture_output=True, text=True).stdout.split()
        for pid in map(int, pids):
            _terminate(pid, grace=5)
        subprocess.run(["ip", "netns", "delete", path.name], capture_output=True)
    for folder in NETNS_ETC.glob(f"{NAMESPACE_PREFIX}*") if NETNS_ETC.is_dir() else []:
        shutil.rmtree(folder, ignore_errors=True)


def _create_namespaces() -> None:
    """The two nodes' namespaces joined by a veth pair; each has loopback, its address and hosts."""
    hosts = "127.0.0.1 localhost\n" + "".join(f"{node.address} {node.name}\n" for node in NODES)
    for node in NODES:
        _ip("netns", "add", node.namespace)
        _ip("-n", node.namespace, "link", "set", "lo", "up")
        (NETNS_ETC / node.namespace).mkdir(parents=True, exist_ok=True)
        (NETNS_ETC / node.namespace / "hosts").write_text(hosts)
    a, b = NODES
    _ip(
        "link",
        "add",
        "veth-dnaf",
        "netns",
        a.namespace,
        "type",
        "veth",
        "peer",
        "name",
        "veth-dnaf",
        "netns",
        b.namespace,
    )
    for node in NODES:
        _ip("-n", node.namespace, "addr", "add", f"{node.address}/24", "dev", "veth-dnaf")
        _ip("-n", node.namespace, "link", "set", "veth-dnaf", "up")


@dataclass
class LocalSlurm:
    """The running cluster: its folder holds the configuration, state, spool, pid and log files."""

    folder: Path
    nodes: tuple[Node, ...] = ()
    """The namespaced nodes; none: this machine is the one node."""

    @property
    def conf(self) -> Path:
        return self.folder / "slurm.conf"

    @property
    def controller_log(self) -> Path:
        return self.folder / "slurmctld.log"

    def environment(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def login(self, *args: str) -> list[str]:
        """``args`` run where jobs are submitted from: the first node's network (its slurmctld)."""
        return ["nsenter", f"--net={NETNS / self.nodes[0].namespace}", *args] if self.nodes else list(args)

    def slurmd_log(self, node: str) -> Path:
        return self.folder / f"slurmd-{node}.log"

    @classmethod
    def start(cls, nodes: int = 1) -> LocalSlurm:
        """One node (this machine) or two (network namespaces)."""
        if nodes not in (1, 2):
            raise ValueError(f"1 or 2 nodes, not {nodes}")
        check_can_run()
        if nodes == 2 and not all(shutil.which(name, path=_sbin_path()) for name in ("ip", "nsenter", "unshare")):
            raise SlurmUnavailable("two nodes need iproute2's ip and util-linux's nsenter and unshare")
        install()
        cluster = cls(Path(tempfile.mkdtemp(prefix=PREFIX)), NODES if nodes == 2 else ())
        (cluster.folder / "owner.pid").write_text(str(os.getpid()))
        try:
            if cluster.nodes:
                _remove_namespaces()
                _create_namespaces()
            cluster._start_munge()
            cluster._write_conf()
            cluster._start_daemons()
            cluster._wait_until_idle()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start_daemons(self) -> None:
        conf = ["-f", str(self.conf)]
        if not self.nodes:
            for daemon in ("slurmctld", "slurmd"):
                subprocess.run([_program(daemon), *conf], check=True, timeout=60)
            return
        subprocess.run(self.nodes[0].command(_program("slurmctld"), *conf), check=True, timeout=60)
        for node in self.nodes:
            subprocess.run(node.command(_program("slurmd"), "-N", node.name, *conf), check=True, timeout=60)

    def _start_munge(self) -> None:
        munge = self.folder / "munge"
        munge.mkdir()
        self.folder.chmod(0o755)
        munge.chmod(0o755)  # munged wants its socket's folder readable by all, owned by itself
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        for path in (munge, key):
            shutil.chown(path, "munge", "munge")
        subprocess.run(
            [
                _program("munged"),
                f"--socket={munge / 'munge.socket'}",
                f"--key-file={key}",
                f"--pid-file={munge / 'munged.pid'}",
                f"--log-file={munge / 'munged.log'}",
                f"--seed-file={munge / 'munged.seed'}",
            ],
            user="munge",
            group="munge",
            extra_groups=[],
            check=True,
            timeout=60,
        )

    def _write_conf(self) -> None:
        folder = self.folder
        (folder / "state").mkdir()
        if self.nodes:  # fresh namespaces: the usual ports are free there
            controller, ports = f"{self.nodes[0].name}({self.nodes[0].address})", (6817, 6818)
            machine = _node_line().split(" ", 1)[1]
            nodes = "\n".join(f"NodeName={n.name} NodeAddr={n.address} {machine} State=UNKNOWN" for n in self.nodes)
            partition = ",".join(node.name for node in self.nodes)
        else:
            controller, ports = socket.gethostname().split(".")[0], (_free_port(), _free_port())
            nodes, partition = f"{_node_line()} State=UNKNOWN", controller
        for name in partition.split(","):
            (folder / f"spool-{name}").mkdir()
        self.conf.write_text(
            f"""ClusterName=dnaf-test
SlurmctldHost={controller}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder / "munge" / "munge.socket"}
StateSaveLocation={folder / "state"}
SlurmdSpoolDir={folder / "spool-%n"}
SlurmctldPidFile={folder / "slurmctld.pid"}
SlurmdPidFile={folder / "slurmd-%n.pid"}
SlurmctldLogFile={self.controller_log}
SlurmdLogFile={folder / "slurmd-%n.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# requeue allowed; at a time limit SIGTERM, then SIGKILL 15 s later (sites: 30 s and more)
JobRequeue=1
KillWait=15
OverTimeLimit=0
# a job starts within a second of its submission, not up to 3 s later (SLURM's default)
SchedulerParameters=batch_sched_delay=0
{nodes}
PartitionName=debug Nodes={partition} Default=YES MaxTime=INFINITE State=UP
"""
        )
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(self.conf)

    def _wait_until_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            result = subprocess.run(
                self.login(_program("sinfo"), "--noheader", "--format=%T %D"),
                env=dict(os.environ, **self.environment()),
                capture_output=True,
                text=True,
            )
            state = result.stdout.strip()
            if state == f"idle {max(len(self.nodes), 1)}":
                return
            time.sleep(1)
        logs = "\n".join(f"--- {path.name}\n{path.read_text()[-2000:]}" for path in sorted(self.folder.rglob("*.log")))
        raise RuntimeError(f"the SLURM nodes are {state or 'not known'!r}, not all idle, after {timeout:.0f} s\n{logs}")

    def stop(self) -> None:
        """Stop the daemons this cluster started (by the pids they wrote), then remove its
        namespaces (with anything still running in them) and its files."""
        for path in [
            *self.folder.glob("slurmd-*.pid"),
            self.folder / "slurmctld.pid",
            self.folder / "munge/munged.pid",
        ]:
            if path.is_file():
                _terminate(int(path.read_text().split()[0]))
        if self.nodes:
            _remove_namespaces()
        if SYSTEM_CONF.is_symlink() and SYSTEM_CONF.resolve() == self.conf.resolve():
            SYSTEM_CONF.unlink()
        shutil.rmtree(self.folder, ignore_errors=True)


def _terminate(pid: int, grace: float = 15) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (daemons are nobody's children here to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
