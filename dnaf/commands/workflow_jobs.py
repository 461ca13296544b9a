"""What the Snakemake workflow runs, read from its dry run: each job's rule, wildcards, files and
command, the rules' .smk files, the config parts and the ``dnaf`` verbs a command passes, and the
package code those verbs reach. ``dnaf write-dvc`` (dnaf.commands.dvc) turns them into stages."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dnaf.core.errors import DataError

SHARED_CODE = frozenset(
    ("dnaf/__init__.py", "dnaf/__main__.py", "dnaf/cli.py", "dnaf/config.py", "dnaf/config_files.py", "dnaf/commands",
     "dnaf/core", "dnaf/io")
)  # fmt: skip
"""Code every stage runs: a change there re-runs nothing (`dvc repro --force <stage>` after one
that changes results), else every stage would depend on all of it."""


@dataclass
class Job:
    """One job of the dry run."""

    rule: str
    wildcards: dict[str, str]
    inputs: list[str]
    outputs: list[str]
    shell: str


# -- the workflow ---------------------------------------------------------------------------------

RULE = re.compile(r"^\s*rule (\w+):", re.MULTILINE)
INCLUDE = re.compile(r'^include: "([^"]+)"', re.MULTILINE)


def rule_files(workflow: Path) -> dict[str, str]:
    """Every rule of the workflow -> the file defining it (``Snakefile`` or
    ``workflow/rules/<name>.smk``), in the order Snakemake reads them."""
    snakefile = (workflow / "Snakefile").read_text()
    files = [*INCLUDE.findall(snakefile), "Snakefile"]
    files += sorted(str(p.relative_to(workflow)) for p in (workflow / "workflow/rules").glob("*.smk"))
    rules: dict[str, str] = {}
    for name in dict.fromkeys(files):
        for rule in RULE.findall((workflow / name).read_text()):
            rules.setdefault(rule, name)
    return rules


def dry_run(workflow: Path, targets: Sequence[str]) -> str:
    """The output of Snakemake's dry run of ``targets`` (every job planned, shell commands shown)."""
    env = {k: v for k, v in os.environ.items() if k != "SNAKEMAKE_PROFILE"}  # the plain local plan
    command = [sys.executable, "-m", "snakemake", "--dry-run", "--forceall", "--printshellcmds", "--nocolor"]
    result = subprocess.run([*command, "--", *targets], cwd=workflow, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise DataError(f"the dry run of {' '.join(targets)} in {workflow} failed:\n{result.stderr[-3000:]}")
    return result.stdout


JOB_START = re.compile(r"^(?:local)?rule (\w+):$")


def parse_jobs(output: str) -> list[Job]:
    """The jobs of a dry run that run a command (target rules such as ``demo`` have none)."""
    blocks: list[dict[str, str]] = []
    for line in output.splitlines():
        if start := JOB_START.match(line):
            blocks.append({"rule": start[1]})
        elif blocks and line.startswith("Shell command: "):
            blocks[-1]["shell"] = line.removeprefix("Shell command: ")
        elif blocks and line.startswith("    ") and ": " in line:
            key, _, value = line.strip().partition(": ")
            blocks[-1].setdefault(key, value)

    def files(value: str | None) -> list[str]:
        return value.split(", ") if value else []

    jobs = []
    for block in blocks:
        if "shell" not in block or not block.get("output"):
            continue
        pairs = (entry.partition("=") for entry in files(block.get("wildcards")))
        jobs.append(
            Job(
                rule=block["rule"],
                wildcards={name: value for name, _, value in pairs},
                inputs=files(block.get("input")),
                outputs=files(block["output"]),
                shell=block["shell"],
            )
        )
    if not jobs:
        raise DataError("the dry run planned no job: is the workflow's output format one this version reads?")
    return jobs


# -- what a stage depends on ----------------------------------------------------------------------


def config_params(shell: str) -> list[str]:
    """Keys of the resolved config a command receives through ``--config-json``: ``datasets.<name>``
    and ``experiments.<name>.<part>`` (the granularity at which DVC re-runs a stage)."""
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=True)  # ( ) && > are tokens of their own
    lexer.whitespace_split = True
    tokens = list(lexer)
    keys = []
    for option, value in zip(tokens, tokens[1:], strict=False):
        if option != "--config-json":
            continue
        for top, entries in json.loads(value).items():
            for name, entry in entries.items() if isinstance(entries, dict) else ():
                parts = entry if top == "experiments" and isinstance(entry, dict) else {None: None}
                keys += [".".join(p for p in (top, name, part) if p) for part in parts]
            if not isinstance(entries, dict):
                keys.append(top)
    return keys


VERB = re.compile(r"(?:^|[\s(])dnaf ([a-z][a-z-]*)")


def dnaf_verbs(shell: str) -> list[str]:
    """The ``dnaf`` verbs a command runs (also through a launcher: ``accelerate launch -m dnaf train``)."""
    return VERB.findall(shell)


def _package() -> Path:
    """The dnaf package folder (this file is dnaf/commands/workflow_jobs.py)."""
    return Path(__file__).resolve().parents[1]


def _unit(module: str, package: Path) -> str | None:
    """``dnaf.metrics.fid`` -> ``dnaf/metrics``; ``dnaf.pipeline`` -> ``dnaf/pipeline.py``."""
    parts = module.split(".")
    if parts[0] != "dnaf" or len(parts) < 2:
        return None
    return f"dnaf/{parts[1]}" if (package / parts[1]).is_dir() else f"dnaf/{parts[1]}.py"


def _imports(nodes: Iterable[ast.AST]) -> set[str]:
    """Dotted names the nodes import: ``from dnaf.io import images`` gives ``dnaf.io.images``
    (a module or a name in one: :func:`_imported_modules` tells)."""
    found = set()
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
    return found


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A module's syntax tree, parsed once however many verbs and stages reach it."""
    return ast.parse(path.read_text())


def _modules(package: Path) -> dict[str, Path]:
    """Module name -> file, for every module of the package (``dnaf.metrics`` is its __init__.py)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported_modules(names: Iterable[str], modules: dict[str, Path]) -> set[str]:
    """The package's modules behind imported names (``dnaf.io.images``; ``dnaf.io`` and its
    ``images`` when the name is ``from dnaf.io import images``)."""
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def _verb_imports(verb: str, package: Path) -> set[str]:
    """Modules the function of ``verb`` (``fid-stats`` -> ``fid_stats`` in dnaf/commands) imports:
    its module's top level, its body, and the module's helpers it calls."""
    function = verb.replace("-", "_")
    for path in sorted((package / "commands").glob("*.py")):
        tree = _tree(path)
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        if function not in functions:
            continue
        reached, todo = set(), [function]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            reached.add(name)
            called = {n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name) and n.id in functions}
            todo += sorted(called - reached)
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        return _imports(top + [functions[name] for name in reached])
    raise DataError(f"no function {function} in {package / 'commands'} for the verb {verb!r} a rule runs")


def code_dependencies(verb_names: Iterable[str]) -> list[str]:
    """The package's folders and modules the verbs reach: the modules their command functions
    import, the modules those import (lazily too), and so on, less the code every stage shares
    (:data:`SHARED_CODE`)."""
    package = _package()
    modules = _modules(package)
    todo = sorted(_imported_modules((m for verb in verb_names for m in _verb_imports(verb, package)), modules))
    reached: set[str] = set()
    while todo:
        module = todo.pop()
        if module in reached or _unit(module, package) in SHARED_CODE:
            continue
        reached.add(module)
        names = _imports([_tree(modules[module])])
        todo += sorted(_imported_modules(names, modules) - reached)
    return sorted({unit for module in reached if (unit := _unit(module, package)) not in SHARED_CODE})
