"""Turning a vetted query's result into an answer: the key figure, and a sentence that starts with the
interpretation ("Tickets with urgency critical, the last 30 days: 4.") so a misreading shows at once."""

from __future__ import annotations

from typing import Any

from schemas.analytics import KeyFigure, QueryResult
from servers.analytics.charts import records
from servers.analytics.offline import QueryChoice

CANNOT = "I can't answer that reliably"

UNITS = {"pct": "%", "minutes": " minutes", "hours": " hours", "seconds": " seconds", "days": " days", "ms": " ms"}


class NoFigure(Exception):
    """The result holds no figure for the question (e.g. an average over no rated ticket); the message says so."""


def key_figure(choice: QueryChoice, result: QueryResult) -> KeyFigure | None:
    """The figure the question asks for, or None when the result holds none (see `figure_or_reason`)."""
    try:
        return figure_or_reason(choice, result)
    except NoFigure:
        return None


def figure_or_reason(choice: QueryChoice, result: QueryResult) -> KeyFigure:
    rows = records(result)
    how, _, rest = choice.key.partition(":")
    value: Any
    if how == "first":
        if not rows:
            if choice.zero_when_missing:
                return KeyFigure(label=rest, value=0)
            raise NoFigure("no row matched")
        value, label = rows[0][rest], rest
    elif how == "sum":
        value = round(sum(float(r[rest] or 0) for r in rows), 2)
        label = f"total {rest}"
    elif how in ("count", "count-1"):
        # "How many times were the rules changed": every version after the first is a change.
        value = len(rows) - (1 if how == "count-1" and rows else 0)
        label = f"number of {rest}s" if how == "count" else f"changes ({rest}s after the first)"
    elif how == "avg":
        if not rows:
            raise NoFigure("there were no tickets in that period")
        value = round(sum(float(r[rest] or 0) for r in rows) / len(rows), 1)
        label = f"average {rest}"
    elif how in ("max", "min", "top", "bottom"):
        column, label_column = rest.split(":")
        ranked = [r for r in rows if r[column] is not None and r[label_column] != "all"]
        if not ranked:
            raise NoFigure("no group had a value for that")
        best = max if how in ("max", "top") else min
        # Ties go to the first label in alphabetical order, as ORDER BY <figure>, <label> would.
        target = best(float(r[column]) for r in ranked)
        value = min(str(r[label_column]) for r in ranked if float(r[column]) == target)
        label = f"{label_column} with the {'most' if how in ('max', 'top') else 'least'} {column}"
    elif how == "complement":
        if not rows or rows[0][rest] is None:
            raise NoFigure("there were no tickets in that period")
        value, label = round(100 - float(rows[0][rest]), 1), f"100 - {rest}"
    elif how in ("share", "share-not"):
        selector, column = rest.rsplit(":", 1)
        field, wanted = selector.split("=")
        total = sum(float(r[column] or 0) for r in rows if r[field] != "all")
        if not total:
            raise NoFigure("there were no tickets in that period")
        part = sum(float(r[column] or 0) for r in rows if (str(r[field]) in wanted.split("|")) != (how == "share-not"))
        value, label = round(100.0 * part / total, 1), f"share of {column} ({field} {wanted})"
    elif how in ("rows", "row"):
        selector, column = rest.rsplit(":", 1)
        field, wanted = selector.split("=")
        matching = [r for r in rows if str(r[field]) in wanted.split("|")]
        if not matching:
            if choice.zero_when_missing:
                return KeyFigure(label=f"{column} ({field} {wanted})", value=0)
            raise NoFigure("no row matched")
        if how == "row":
            value = matching[0][column]
        else:
            value = round(sum(float(r[column] or 0) for r in matching), 1)
        label = f"{column} ({field} {wanted})"
    elif how in ("diff", "change", "ratio"):
        column, first, second = rest.split(":")
        a, b = (_row_value(rows, selector, column) for selector in (first, second))
        if how == "diff":
            value, label = a - b, f"{column} difference"
        elif how == "ratio":
            if not b:
                raise NoFigure(f"the second group had no {column.replace('_', ' ')}, so there is no ratio")
            value, label = round(a / b, 2), f"{column} ratio"
        else:
            if not a:
                raise NoFigure(f"the first period had no {column.replace('_', ' ')}, so there is no percentage change")
            value, label = round(100.0 * (b - a) / a, 1), f"{column} change in percent"
    else:
        raise ValueError(f"unknown key {choice.key!r}")
    if value is None:
        raise NoFigure("there was nothing to measure (for an average: no ticket with a value)")
    if isinstance(value, int | float) and choice.scale != 1.0:
        value = round(float(value) * choice.scale, 2)
    if isinstance(value, float) and value.is_integer() and choice.kind == "count":
        value = int(value)
    return KeyFigure(label=label, value=value)


def _row_value(rows: list[dict[str, Any]], selector: str, column: str) -> float:
    field, wanted = selector.split("=")
    match = next((r for r in rows if str(r[field]) == wanted), None)
    return float(match[column] or 0) if match else 0.0


def fmt(value: Any, kind: str = "") -> str:
    if kind == "money" and isinstance(value, int | float):
        return f"${value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 0.1 else f"${value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.4f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    else:
        text = str(value).replace("_", " ")
    return text + UNITS.get(kind, "")


def sentence(choice: QueryChoice, figure: KeyFigure, result: QueryResult) -> str:
    """'<interpretation>: <figure><context>.'"""
    rows = records(result)
    first = rows[0] if rows else {}
    value = fmt(figure.value, choice.kind)
    detail = choice.detail
    extra = ""
    if detail == "ai_handled" and first:
        extra = f" ({fmt(first.get('ai_share_pct'))}% of the {fmt(first.get('answered'))} answered)"
    elif detail == "resolution" and first:
        extra = f" ({fmt(first.get('drafts_created'))} drafts created of {fmt(first.get('ai_answered'))} AI answers)"
    elif detail == "csat" and first:
        extra = f" of 5 ({fmt(first.get('rated'))} rated tickets)"
    elif detail == "avg_rating" and first:
        extra = f" of 5 ({fmt(first.get('rated'))} rated tickets)"
    elif detail == "cost" and rows:
        extra = " (" + ", ".join(f"{r['ai_model']} {fmt(r['cost_usd'], 'money')}" for r in rows) + ")"
    elif detail == "problems" and first:
        extra = (f" (escalations {fmt(first.get('escalation_pct'))}%, low ratings {fmt(first.get('low_rating_pct'))}%,"
                 f" AI worse than human {fmt(first.get('human_better_pct'))}%)")
    elif detail == "who" and rows:
        value = ", ".join(f"{r['handled_by'].replace('_', ' ')} {fmt(r['tickets'])} ({fmt(r['share_pct'])}%)"
                          for r in rows)
    elif detail == "funnel" and rows:
        value = ", ".join(f"{r['stage'].replace('_', ' ')} {fmt(r['tickets'])}" for r in rows)
    elif detail == "stuck" and rows:
        extra = " (" + ", ".join(f"{fmt(r['tickets'])} {r['status'].replace('_', ' ')}" for r in rows) + ")"
    elif detail == "wow" and rows:
        extra = " (" + "; ".join(f"{r['metric'].replace('_', ' ')} {fmt(r['this_week'])} vs {fmt(r['last_week'])}"
                                 for r in rows) + ")"
    elif detail in ("top", "day") and rows:
        chosen = next((r for r in rows if str(r.get("category", r.get("channel", r.get("day")))) == str(figure.value)),
                      None)
        if chosen is not None:
            share = f", {fmt(chosen['share_pct'])}%" if "share_pct" in chosen else ""
            extra = f" ({fmt(chosen['tickets'])} tickets{share})"
    elif detail.startswith("breakdown:"):
        _, column, kind, scale = detail.split(":")
        groups = [r for r in rows if r.get(column) is not None]
        value = ", ".join(
            f"{str(r['label']).replace('_', ' ')} "
            f"{fmt(round(float(r[column]) * float(scale), 2) if float(scale) != 1.0 else r[column], kind)}"
            for r in sorted(groups, key=lambda r: -float(r[column])))
    elif detail.startswith("rank:"):
        _, column, kind, scale = detail.split(":")
        chosen = next((r for r in rows if str(r.get("label")) == str(figure.value)), None)
        if chosen is not None:
            shown = round(float(chosen[column]) * float(scale), 2) if float(scale) != 1.0 else chosen[column]
            extra = f" ({fmt(shown, kind)}" + (
                f", {fmt(chosen['tickets'])} tickets" if column != "tickets" and "tickets" in chosen else "") + ")"
    elif detail == "share" and rows:
        wanted = choice.key.split("=", 1)[1].rsplit(":", 1)[0].split("|")
        total = sum(int(r.get("tickets") or 0) for r in rows)
        part = sum(int(r.get("tickets") or 0) for r in rows
                   if (str(r.get("label")) in wanted) != choice.key.startswith("share-not"))
        extra = f" ({fmt(part)} of {fmt(total)})"
    elif detail in ("diff", "change") and rows:
        named = [part.split("=", 1)[1] for part in choice.key.split(":")[2:]]
        shown = [next((r for r in rows if str(r["label"]) == name), {"label": name, "tickets": 0}) for name in named]
        extra = " (" + ", ".join(f"{str(r['label']).replace('_', ' ')} {fmt(r['tickets'])}" for r in shown) + ")"
    elif detail in ("ai_share_pct", "escalation_pct", "ai_edited_pct") and first:
        column = {"ai_share_pct": "ai_handled", "escalation_pct": "human_handled", "ai_edited_pct": "ai_edited"}[detail]
        extra = f" ({fmt(first.get(column))} of {fmt(first.get('answered'))} answered)"
    elif detail == "rated_pct" and first:
        rated = int(first.get("rated") or 0)
        shown = int(first.get("tickets") or 0) - rated if choice.key.startswith("complement") else rated
        extra = f" ({fmt(shown)} of {fmt(first.get('tickets'))})"
    elif detail in ("low_rating_pct", "high_rating_pct") and first:
        column = "low_ratings" if detail == "low_rating_pct" else "high_ratings"
        extra = f" ({fmt(first.get(column))} of {fmt(first.get('rated'))} rated)"
    elif detail == "failure_pct" and first:
        extra = f" ({fmt(first.get('failed'))} of {fmt(first.get('tasks'))} tasks)"
    elif detail in ("median_response_seconds", "avg_response_seconds", "median_resolution_seconds",
                    "avg_resolution_seconds", "avg_ai_answer_seconds", "median_ai_answer_seconds") and first:
        over = "answered" if "response" in detail else "resolved" if "resolution" in detail else "ai_answered"
        extra = f" (over {fmt(first.get(over))} tickets)"
    return " ".join(f"{choice.interpretation}: {value}{extra}.".split())
