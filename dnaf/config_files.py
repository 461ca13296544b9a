"""Config files as layers: each YAML file merged in order over the code defaults (dnaf.config), then
the part of the config a workflow rule passes as JSON; validated after each layer, so that an error
names the file it came from, and checked for datasets without their experiment (or the reverse).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dnaf.config import Config
from dnaf.core.errors import ConfigError
from dnaf.core.settings import deep_merge, validation_problems


def _format_errors(source: str, error: ValidationError) -> str:
    return "\n".join(f"{source}: {problem}" for problem in validation_problems(error))


def parse_config(layers: list[tuple[str, dict[str, Any]]], part: tuple[str, dict[str, Any]] | None = None) -> Config:
    """Config layers (source name, mapping) merged in order over the defaults, then ``part``: a part
    of a config, such as the workflow gives each rule (its names need not come in pairs)."""
    config = Config()
    merged = config.model_dump(mode="json")
    for source, document in [*layers, *([part] if part else [])]:
        if not isinstance(document, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level, got {type(document).__name__}")
        merged = deep_merge(merged, document)
        try:  # validated after each document, so that an error names the file it came from
            config = Config.model_validate(merged)
        except ValidationError as error:
            raise ConfigError(_format_errors(source, error)) from None
    if unpaired := _unpaired_names(layers, merged):
        raise ConfigError("\n".join(unpaired))
    return config


def _unpaired_names(layers: list[tuple[str, dict[str, Any]]], merged: dict[str, Any]) -> list[str]:
    """Each name a layer adds under datasets: (or experiments:) that the merged config lacks under
    the other, with the first file that added it. Checked on the merge: one file may hold the
    datasets and another the experiments."""
    added: dict[tuple[str, str], str] = {}
    for source, document in layers:
        for section in ("datasets", "experiments"):
            for name in document.get(section) or {}:  # validated: a mapping or absent
                added.setdefault((section, name), source)
    needs = {
        "datasets": "needs its experiment (`{name}: {{}}` under experiments: takes every default, the paper recipe)",
        "experiments": "needs its dataset (format, root, sizes: config/config.yaml shows every key)",
    }
    problems = []
    for (section, name), source in added.items():
        other = "experiments" if section == "datasets" else "datasets"
        if name not in merged[other]:
            why = needs[section].format(name=name)
            problems.append(f"{source}: {other}.{name}: missing; {section}.{name} is defined here and {why}")
    return problems


def read_layers(paths: list[Path] | tuple[Path, ...]) -> list[tuple[str, dict[str, Any]]]:
    """(file name, its YAML) of each config file, in order."""
    layers = []
    for path in paths:
        try:
            layers.append((str(path), yaml.safe_load(Path(path).read_text()) or {}))
        except OSError as error:
            raise ConfigError(f"{path}: cannot read config file: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML: {error}") from None
    return layers


def load_config(paths: list[Path] | tuple[Path, ...] = (), inline_json: str | None = None) -> Config:
    """Defaults, then each YAML file in order, then an inline JSON document: the part of the config
    a workflow rule passes."""
    part = None
    if inline_json is not None:
        try:
            part = ("--config-json", json.loads(inline_json))
        except json.JSONDecodeError as error:
            raise ConfigError(f"--config-json: not valid JSON: {error}") from None
    return parse_config(read_layers(paths), part)
