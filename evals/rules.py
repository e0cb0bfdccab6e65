"""Category rules (`ai_answerer_instructions`) in experiments: the versions a run uses (pinned or active), adding a
new version to try, and promoting a version to active with who, when and why on record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from evals.models import LabError
from orchestrator.tools import ToolOutcome, TurnTools
from schemas.categories import Category


class RulesError(LabError):
    """A version that does not exist, or a promotion that makes no sense; the message says which."""


@dataclass(frozen=True)
class RuleVersion:
    category: Category
    version: int
    instructions: str
    created_by: str
    is_active: bool


async def versions_for(conn: psycopg.AsyncConnection, pins: dict[Category, int]) -> dict[Category, RuleVersion]:
    """Per category the pinned version, or the active one: what a run's agents are shown."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT category, version, instructions, created_by, is_active FROM ai_answerer_instructions")
    rows = [RuleVersion(Category(r["category"]), r["version"], r["instructions"], r["created_by"], r["is_active"])
            for r in await cur.fetchall()]
    chosen: dict[Category, RuleVersion] = {}
    for category in Category:
        wanted = pins.get(category)
        match = [r for r in rows if r.category is category and (r.version == wanted if wanted else r.is_active)]
        if wanted and not match:
            raise RulesError(f"{category.value} has no rules version {wanted} (see `levhaolam rules {category.value}`)")
        if match:
            chosen[category] = match[0]
    return chosen


class PinnedRulesTools(TurnTools):
    """A turn's tools, except that `get_category_instructions` answers with the run's version of the rules (the
    knowledge server only serves the active one). Everything else goes to the servers as usual."""

    pinned: dict[Category, RuleVersion]

    @classmethod
    def wrapping(cls, tools: TurnTools, pinned: dict[Category, RuleVersion]) -> PinnedRulesTools:
        wrapped = cls(tools.connections, tools.allowed, tools.calls)
        wrapped.pinned = pinned
        return wrapped

    async def call(self, tool: str, **arguments: Any) -> ToolOutcome:
        if tool == "get_category_instructions" and tool in self.allowed:
            try:
                rules = self.pinned.get(Category(str(arguments.get("category"))))
            except ValueError:
                rules = None  # not a category: let the server refuse it as usual
            if rules is not None:
                return ToolOutcome(tool, {"category": rules.category.value, "version": rules.version,
                                          "instructions": rules.instructions, "created_by": rules.created_by})
        return await super().call(tool, **arguments)


async def add_version(conn: psycopg.AsyncConnection, category: Category, instructions: str, created_by: str) -> int:
    """A new, inactive version (rules are never edited in place): try it in an experiment, then promote it."""
    row = await (await conn.execute(
        "INSERT INTO ai_answerer_instructions (category, version, instructions, is_active, created_by) "
        "SELECT %s, coalesce(max(version), 0) + 1, %s, false, %s FROM ai_answerer_instructions WHERE category = %s "
        "RETURNING version", (category.value, instructions, created_by, category.value))).fetchone()
    assert row is not None
    return int(row[0])


async def promote(conn: psycopg.AsyncConnection, category: Category, version: int, promoted_by: str, reason: str,
                  run_key: str | None = None) -> tuple[int | None, int]:
    """Make `version` the active rules of `category`, in one transaction with its record. (from, to) versions."""
    if len(reason.strip()) < 3:
        raise RulesError("say why (--why): the promotion is recorded with its reason")
    async with conn.transaction():
        found = await (await conn.execute(
            "SELECT version, is_active FROM ai_answerer_instructions WHERE category = %s FOR UPDATE",
            (category.value,))).fetchall()
        versions = {row[0]: row[1] for row in found}
        if version not in versions:
            raise RulesError(f"{category.value} has no rules version {version} (it has: "
                             f"{', '.join(str(v) for v in sorted(versions)) or 'none'})")
        current = next((v for v, active in versions.items() if active), None)
        if current == version:
            raise RulesError(f"{category.value} version {version} is already active")
        run_id = None
        if run_key is not None:
            run = await (await conn.execute("SELECT id FROM eval_runs WHERE run_key = %s", (run_key,))).fetchone()
            if run is None:
                raise RulesError(f"no experiment run {run_key!r} (see `levhaolam eval report`)")
            run_id = run[0]
        # Deactivate first: the unique index allows one active version per category at any moment.
        await conn.execute("UPDATE ai_answerer_instructions SET is_active = false WHERE category = %s AND is_active",
                           (category.value,))
        await conn.execute("UPDATE ai_answerer_instructions SET is_active = true WHERE category = %s AND version = %s",
                           (category.value, version))
        await conn.execute(
            "INSERT INTO rule_promotions (category, from_version, to_version, promoted_by, reason, eval_run_id) "
            "VALUES (%s, %s, %s, %s, %s, %s)", (category.value, current, version, promoted_by.strip(),
                                                reason.strip(), run_id))
    return current, version
