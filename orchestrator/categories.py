"""Per-category configuration, read from `categories.toml` and validated at start: the only source of what a
category's agent may call (the per-turn token's `tools` claim is built from it)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.categories import Category
from schemas.knowledge import AREA_NAMESPACES
from schemas.services import McpServer
from schemas.turns import Decision

if TYPE_CHECKING:
    from orchestrator.costs import PriceTable

CONFIG_PATH = Path(__file__).with_name("categories.toml")
ToolName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


class ReasoningEffort(StrEnum):
    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class CategoryConfigError(ValueError):
    """The category configuration is invalid; the message says where and why (`category`: whose override)."""

    def __init__(self, message: str, category: str | None = None) -> None:
        super().__init__(message)
        self.category = category


class GatePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Decision = Field(description="The most the AI may do alone in this category")
    min_confidence: float = Field(ge=0.0, le=1.0, description="Below this router confidence the reply is a draft")


class LearningPolicy(StrEnum):
    """What happens to a lesson learned from a staff correction of this category's draft."""

    REVIEW = "review"  # every lesson waits for a person to approve it
    AUTO_MINOR = "auto_minor"  # small wording edits that add no number, amount or promise apply at once


class CategoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=3)
    reasoning_effort: ReasoningEffort
    retention_model: str | None = None
    fallback_model: str | None = None
    knowledge_namespace: str
    needs_customer: bool
    tools: dict[McpServer, tuple[ToolName, ...]]
    gate: GatePolicy
    learning: LearningPolicy = LearningPolicy.REVIEW

    @model_validator(mode="after")
    def _namespace_exists(self) -> CategoryConfig:
        if self.knowledge_namespace not in AREA_NAMESPACES:
            raise ValueError(f"knowledge_namespace {self.knowledge_namespace!r} is not one of "
                             f"{', '.join(AREA_NAMESPACES)}")
        return self

    def models_to_try(self, retention: bool) -> list[str]:
        """The order in which models are tried for one turn: the category's (or, in retention mode, the retention)
        model, then the fallback, then the category's own model if retention used another; no name twice."""
        first = self.retention_model if retention and self.retention_model else self.model
        chain = [first, self.fallback_model, self.model]
        return [name for i, name in enumerate(chain) if name and name not in chain[:i]]

    @property
    def model_names(self) -> set[str]:
        return {name for name in (self.model, self.retention_model, self.fallback_model) if name}

    @property
    def tool_names(self) -> list[str]:
        return sorted({tool for tools in self.tools.values() for tool in tools})

    @property
    def servers(self) -> list[McpServer]:
        return [server for server in McpServer if server in self.tools]

    def server_of(self, tool: str) -> McpServer:
        for server, tools in self.tools.items():
            if tool in tools:
                return server
        raise KeyError(f"{tool!r} is not a tool of this category")


class RouterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    reasoning_effort: ReasoningEffort


class GuardConfig(BaseModel):
    """The model judge that backs the offline guardrail rules when a key is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    reasoning_effort: ReasoningEffort


class Categories(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    router: RouterConfig
    guard: GuardConfig
    categories: dict[Category, CategoryConfig]

    @property
    def model_names(self) -> set[str]:
        """Every model this configuration may call: each must have a price (checked at start)."""
        return {self.router.model, self.guard.model}.union(*(c.model_names for c in self.categories.values()))

    @model_validator(mode="after")
    def _every_category_configured(self) -> Categories:
        missing = [c.value for c in Category if c not in self.categories]
        if missing:
            raise ValueError(f"no configuration for: {', '.join(missing)}")
        return self

    def __getitem__(self, category: Category) -> CategoryConfig:
        return self.categories[category]

    def check_tools_exist(self, listed: dict[McpServer, set[str]]) -> None:
        """Refuse a configuration naming a tool its server does not have (`listed`: what each server lists)."""
        problems = [f"{category.value}: {server.value} has no tool {tool!r} (it has: "
                    f"{', '.join(sorted(listed.get(server, set()))) or 'nothing'})"
                    for category, config in self.categories.items()
                    for server, tools in config.tools.items() for tool in tools
                    if tool not in listed.get(server, set())]
        if problems:
            raise CategoryConfigError("orchestrator/categories.toml names tools that do not exist: "
                                      + "; ".join(problems))


def parse_categories(text: str, source: str = "categories.toml") -> Categories:
    try:
        return Categories.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise CategoryConfigError(f"{source}: not valid TOML: {exc}") from None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CategoryConfigError(f"{source}: {_first_problem(exc)}") from None


def _first_problem(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    first = errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {str(first['msg']).removeprefix('Value error, ')}"


@cache
def load_categories(path: Path = CONFIG_PATH) -> Categories:
    return parse_categories(path.read_text(encoding="utf-8"), str(path))


# What staff may change in the database without a review of the file. Tools only narrow (an override can take a
# tool away, never add one): the allow-list is what every turn's token carries. `needs_customer` stays the file's.
OVERRIDABLE = ("model", "reasoning_effort", "retention_model", "fallback_model", "knowledge_namespace", "gate",
               "learning", "tools")
MODEL_FIELDS = ("model", "retention_model", "fallback_model")  # each model an override names must have a price


def with_overrides(base: Categories, overrides: Mapping[str, Mapping[str, Any]], prices: PriceTable | None = None,
                   sources: Mapping[str, str] | None = None) -> Categories:
    """The file's configuration with each category's database override merged over it, validated again.

    `overrides`: category -> a partial category table (`gate` merges key by key; `tools` lists, per server, the
    tools kept). With `prices`, each model an override names must be priced in orchestrator/prices.toml.
    `sources`: how an error calls a category's override (default 'database override of CATEGORY'). Raises
    CategoryConfigError naming the category (also as its `category`) and the field."""
    data = base.model_dump(mode="json")
    for category, changes in overrides.items():
        where = (sources or {}).get(category) or f"database override of {category}"
        try:
            data["categories"][category] = _overridden(where, data["categories"].get(category), changes, prices)
        except CategoryConfigError as exc:
            raise CategoryConfigError(str(exc), category) from None
    return Categories.model_validate(data)


def _overridden(where: str, current: dict[str, Any] | None, changes: Mapping[str, Any],
                prices: PriceTable | None) -> dict[str, Any]:
    """One category's configuration (`current`, as JSON) with its override merged over it, validated."""
    if current is None:
        raise CategoryConfigError(f"{where}: no such category")
    unknown = sorted(set(changes) - set(OVERRIDABLE))
    if unknown:
        raise CategoryConfigError(f"{where}: {', '.join(unknown)} cannot be overridden (only "
                                  f"{', '.join(OVERRIDABLE)}; the rest changes through a review of "
                                  "categories.toml)")
    merged = {**current, **changes}
    if isinstance(changes.get("gate"), Mapping):
        merged["gate"] = {**current["gate"], **changes["gate"]}
    if "tools" in changes:
        merged["tools"] = _narrowed(where, current["tools"], changes["tools"])
    try:
        config = CategoryConfig.model_validate(merged)
    except ValueError as exc:
        raise CategoryConfigError(f"{where}: {_first_problem(exc)}") from None
    for name in MODEL_FIELDS:
        model = getattr(config, name) if name in changes else None
        if prices is not None and model is not None and prices.price_of(model) is None:
            raise CategoryConfigError(f"{where}: {name}: {model!r} has no price in orchestrator/prices.toml, and "
                                      "every model a category may call must have one (priced: "
                                      f"{', '.join(sorted(prices.models))})")
    return config.model_dump(mode="json")


def with_stored_overrides(rows: Iterable[Any], replacing: Mapping[str, Mapping[str, Any]] | None = None) -> Categories:
    """The file with staff's stored overrides applied (rows with `category` and `settings`, as
    `store.category_overrides.overrides` gives them); `replacing` stands in for a category's stored one. Every
    override is checked as `with_overrides` does, its models' prices included; an error in one already stored
    says that it is the stored override, and how to remove it."""
    from orchestrator.costs import load_prices  # here, not at import: it loads the agents SDK

    stored = {row.category: row.settings for row in rows}
    changing = dict(replacing or {})
    sources = {category: f"stored override of {category} (in the database, not categories.toml)"
               for category in stored if category not in changing}
    try:
        return with_overrides(load_categories(), {**stored, **changing}, load_prices(),
                              sources | {category: f"override of {category}" for category in changing})
    except CategoryConfigError as exc:
        if exc.category not in sources:
            raise
        raise CategoryConfigError(f"{exc}; `levhaolam categories clear {exc.category}` removes it, `levhaolam "
                                  "categories override` replaces it", exc.category) from None


def _narrowed(where: str, allowed: dict[str, list[str]], kept: object) -> dict[str, list[str]]:
    if not isinstance(kept, Mapping):
        raise CategoryConfigError(f"{where}: tools: give, per server, the list of tools to keep")
    for server, tools in kept.items():
        if not isinstance(tools, list) or not all(isinstance(tool, str) for tool in tools):
            raise CategoryConfigError(f"{where}: tools.{server}: give a list of tool names")
        added = sorted(set(tools) - set(allowed.get(str(server), [])))
        if added:
            raise CategoryConfigError(f"{where}: tools.{server}: {', '.join(added)} not allowed by categories.toml; "
                                      "an override may only take tools away")
    return {str(server): list(tools) for server, tools in kept.items() if tools}
