"""Experiment configurations: variants of `orchestrator/categories.toml`, optionally pinning category-rule versions.

A config file is either a whole categories file (it has `[router]` and `[categories]`), or a small TOML that names
a base and overrides some of it:

    name = "strict-gate"                       # default: the file's name
    description = "payment and damage as drafts"
    base = "orchestrator/categories.toml"      # default; relative to the working folder or this file
    [overrides.categories.damaged_item.gate]   # deep-merged into the base
    mode = "draft"
    [rules]                                    # pinned versions of ai_answerer_instructions (default: active)
    shipping_inquiry = 1
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evals.models import LabError
from orchestrator.categories import CONFIG_PATH, Categories, CategoryConfigError, parse_categories
from schemas.categories import Category


class ConfigFileError(LabError):
    """A config file that cannot be used; the message names the file and the problem."""


class VariantFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,40}$")
    description: str = ""
    base: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    rules: dict[Category, int] = Field(default_factory=dict)


@dataclass(frozen=True)
class EvalConfig:
    name: str
    source: str
    categories: Categories
    description: str = ""
    rule_pins: dict[Category, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "description": self.description,
                "models": {c.value: cfg.model for c, cfg in self.categories.categories.items()},
                "gates": {c.value: cfg.gate.mode.value for c, cfg in self.categories.categories.items()},
                "rule_pins": {c.value: v for c, v in self.rule_pins.items()}}


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path) -> EvalConfig:
    data = _read_toml(path)
    try:
        if "categories" in data and "router" in data:
            return EvalConfig(name=path.stem, source=str(path), categories=parse_categories(
                path.read_text(encoding="utf-8"), str(path)))
        variant = VariantFile.model_validate(data)
        base_path = CONFIG_PATH
        if variant.base:
            candidates = [Path(variant.base), path.parent / variant.base]
            base_path = next((p for p in candidates if p.exists()), candidates[0])
        base = _read_toml(base_path)
        categories = Categories.model_validate(_merged(base, variant.overrides))
    except CategoryConfigError as exc:
        raise ConfigFileError(str(exc)) from None
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigFileError(f"{path}: {first[0]}{': ' + first[2].strip() if len(first) > 2 else ''}") from None
    return EvalConfig(name=variant.name or path.stem, source=str(path), categories=categories,
                      description=variant.description, rule_pins=dict(variant.rules))


def load_configs(paths: list[Path]) -> list[EvalConfig]:
    configs = [load_config(path) for path in paths]
    names = [config.name for config in configs]
    if len(set(names)) != len(names):
        raise ConfigFileError(f"two configs share a name ({', '.join(names)}); set `name` in one of them")
    return configs
