"""A one-node SLURM cluster on this machine, for the SLURM test: Debian's slurm-wlm and munge
(installed with apt-get when missing), their daemons started from a configuration written into a
folder of their own, and stopped by their process ids."""

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


class SlurmUnavailable(RuntimeError):
    """This machine cannot run the test cluster; the message says why."""


def check_can_run() -> None:
    if not sys.platform.startswith("linux"):
        raise SlurmUnavailable("SLURM runs on Linux only")
    if os.geteuid() != 0:
        raise SlurmUnavailable("installing SLURM and starting its daemons needs root")
    if SYSTEM_CONF.is_symlink() and not SYSTEM_CONF.exists() and SYSTEM_CONF.resolve().parent.name.startswith(PREFIX):
        SYSTEM_CONF.unlink()  # left by a test run that was killed before it could clean up
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        raise SlurmUnavailable(f"{SYSTEM_CONF} exists: this machine has a SLURM set-up of its own, left alone")


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


@dataclass
class LocalSlurm:
    """The running cluster: its folder holds the configuration, state, spool, pid and log files."""

    folder: Path

    @property
    def conf(self) -> Path:
        return self.folder / "slurm.conf"

    @property
    def controller_log(self) -> Path:
        return self.folder / "slurmctld.log"

    def environment(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    @classmethod
    def start(cls) -> LocalSlurm:
        check_can_run()
        install()
        cluster = cls(Path(tempfile.mkdtemp(prefix=PREFIX)))
        try:
            cluster._start_munge()
            cluster._write_conf()
            for daemon in ("slurmctld", "slurmd"):
                subprocess.run([_program(daemon), "-f", str(cluster.conf)], check=True, timeout=60)
            cluster._wait_until_idle()
        except BaseException:
            cluster.stop()
            raise
        return cluster

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
        folder, host = self.folder, socket.gethostname().split(".")[0]
        (folder / "state").mkdir()
        (folder / "spool").mkdir()
        self.conf.write_text(
            f"""ClusterName=dnaf-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder / "munge" / "munge.socket"}
StateSaveLocation={folder / "state"}
SlurmdSpoolDir={folder / "spool"}
SlurmctldPidFile={folder / "slurmctld.pid"}
SlurmdPidFile={folder / "slurmd.pid"}
SlurmctldLogFile={self.controller_log}
SlurmdLogFile={folder / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
{_node_line()} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
        )
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(self.conf)

    def _wait_until_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            result = subprocess.run(
                [_program("sinfo"), "--noheader", "--format=%T"],
                env=dict(os.environ, **self.environment()),
                capture_output=True,
                text=True,
            )
            state = result.stdout.strip()
            if state == "idle":
                return
            time.sleep(1)
        logs = "\n".join(f"--- {path.name}\n{path.read_text()[-2000:]}" for path in sorted(self.folder.rglob("*.log")))
        raise RuntimeError(f"the SLURM node is {state or 'not known'!r}, not idle, after {timeout:.0f} s\n{logs}")

    def stop(self) -> None:
        """Stop the daemons this cluster started (by the pids they wrote), then remove its files."""
        for pid_file in ("slurmd.pid", "slurmctld.pid", "munge/munged.pid"):
            path = self.folder / pid_file
            if path.is_file():
                _terminate(int(path.read_text().split()[0]))
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
