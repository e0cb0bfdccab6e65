"""`levhaolam categories show|override|clear`: staff's database overrides of orchestrator/categories.toml.

An override is checked against the file and the rules of `orchestrator.categories.with_overrides` before it is
stored, so the orchestrator will start with it; it takes effect when the orchestrator next starts."""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from levhaolam.one_line_errors import one_line_errors
from levhaolam.support_commands import CommandError, connected
from orchestrator.categories import OVERRIDABLE, CategoryConfigError, with_stored_overrides
from schemas.categories import parse_category
from schemas.settings import Settings
from store import category_overrides

categories_app = typer.Typer(help="Per-category configuration: the reviewed file and staff's overrides of it.",
                             no_args_is_help=True)
out = Console()
command = one_line_errors(CommandError, CategoryConfigError)
SETTINGS_HELP = ('A JSON object of what changes, e.g. {"gate": {"mode": "draft"}} (fields: ' + ", ".join(OVERRIDABLE)
                 + "; tools may only be taken away)")


@categories_app.command("show")
@command
async def show() -> None:
    """Each category as the orchestrator will run it: the file with the database's overrides applied."""
    async with connected(Settings()) as conn:
        rows = await category_overrides.overrides(conn)
    effective = with_stored_overrides(rows)
    changed = {row.category: row for row in rows}
    table = Table("category", "model", "effort", "gate", "tools", "override")
    for category, config in effective.categories.items():
        row = changed.get(category.value)
        table.add_row(category.value, config.model, config.reasoning_effort.value,
                      f"{config.gate.mode.value} >= {config.gate.min_confidence:g}", ", ".join(config.tool_names),
                      f"{json.dumps(row.settings)}\n{row.changed_by}, {row.changed_at:%Y-%m-%d %H:%M}: {row.reason}"
                      if row else "")
    out.print(table)


@categories_app.command("override")
@command
async def override(
    category: Annotated[str, typer.Argument(help="The category, e.g. damaged_item")],
    settings: Annotated[str, typer.Argument(help=SETTINGS_HELP)],
    reason: Annotated[str, typer.Option(help="Why (kept with the override)")],
    by: Annotated[str | None, typer.Option(help="Who changes it (default: this login)")] = None,
) -> None:
    """Replace the category's override (what it does not name comes from the file); applies at the next start."""
    name = parse_category(category).value
    try:
        changes: Any = json.loads(settings)
    except ValueError as exc:
        raise CommandError(f"settings: not valid JSON ({exc})") from None
    if not isinstance(changes, dict) or not changes:
        raise CommandError('settings: give a JSON object with what changes, e.g. {"model": "gpt-5-mini"}')
    if not reason.strip():
        raise CommandError("--reason: say why the category changes")
    async with connected(Settings()) as conn:
        # Refused here, not at the next start.
        with_stored_overrides(await category_overrides.overrides(conn), {name: changes})
        await category_overrides.set_override(conn, name, changes, reason=reason.strip()[:500],
                                              changed_by=(by or getpass.getuser())[:200])
    out.print(f"{name}: override stored; the orchestrator applies it when it next starts.")


@categories_app.command("clear")
@command
async def clear(category: Annotated[str, typer.Argument(help="The category")]) -> None:
    """Remove the category's override: it runs as the file says from the next start."""
    name = parse_category(category).value
    async with connected(Settings()) as conn:
        removed = await category_overrides.clear_override(conn, name)
    out.print(f"{name}: override removed." if removed else f"{name} had no override.")
