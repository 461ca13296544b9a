"""The base of every typed configuration section, and the merge of partial documents over it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError

Size = tuple[PositiveInt, PositiveInt]
"""(height, width) in pixels."""


class StrictModel(BaseModel):
    """Immutable, unknown keys rejected, attribute docstrings kept as the schema's descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` over ``base``: mappings merge key by key, any other value replaces (lists too)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validation_problems(error: ValidationError) -> list[str]:
    """Each problem of ``error`` as "dotted.key: reason", an unknown key named as such."""
    return [
        f"{'.'.join(str(part) for part in item['loc']) or '<top level>'}: "
        f"{'unknown key' if item['type'] == 'extra_forbidden' else item['msg']}"
        for item in error.errors()
    ]
