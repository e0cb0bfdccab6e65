"""Turning a vetted query's result into an answer: the key figure and one plain sentence."""

from __future__ import annotations

from typing import Any

from schemas.analytics import KeyFigure, QueryResult
from servers.analytics.charts import records
from servers.analytics.offline import QueryChoice

CANNOT = "I can't answer that reliably"


def key_figure(choice: QueryChoice, result: QueryResult) -> KeyFigure | None:
    rows = records(result)
    if not rows:
        return None
    how, _, rest = choice.key.partition(":")
    if how == "first":
        value = rows[0][rest]
        label = rest
    elif how == "sum":
        value = round(sum(float(r[rest] or 0) for r in rows), 2)
        label = f"total {rest}"
    elif how == "avg":
        value = round(sum(float(r[rest] or 0) for r in rows) / len(rows), 1)
        label = f"average {rest}"
    elif how == "max":
        column, label_column = rest.split(":")
        value = max(rows, key=lambda r: r[column] or 0)[label_column]
        label = f"{label_column} with the most {column}"
    else:  # row:field=value:column
        selector, column = rest.rsplit(":", 1)
        field, wanted = selector.split("=")
        match = next((r for r in rows if str(r[field]) == wanted), None)
        if match is None:
            return None
        value, label = match[column], f"{column} ({field} {wanted})"
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and how in ("sum",) and "cost" not in rest:
        value = int(value)
    return KeyFigure(label=label, value=value)


def _fmt(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    return str(value).replace("_", " ")


def sentence(choice: QueryChoice, figure: KeyFigure, result: QueryResult) -> str:
    rows = records(result)
    first = rows[0] if rows else {}
    v = _fmt(figure.value)
    when = choice.period.label if choice.period else ""
    scope = "".join(f" in {value.replace('_', ' ')}" for value in choice.filters.values())
    phrases = {
        "ticket_count": lambda: f"{v} tickets{scope} {when}.",
        "ai_handled_count": lambda: (
            f"AI alone answered {v}% of answered tickets{scope} {when} "
            f"({_fmt(first.get('ai_handled'))} of {_fmt(first.get('answered'))})."
            if figure.label == "ai_share_pct"
            else f"AI handled {v} tickets alone{scope} {when}, {_fmt(first.get('ai_share_pct'))}% of the "
            f"{_fmt(first.get('answered'))} answered."
        ),
        "resolution_rate": lambda: (
            f"Resolution rate{scope} {when}: {v}% ({_fmt(first.get('drafts_created'))} drafts created "
            f"of {_fmt(first.get('ai_answered'))} AI answers)."
        ),
        "funnel": lambda: (
            "Funnel "
            + when
            + ": "
            + ", ".join(f"{r['stage'].replace('_', ' ')} {_fmt(r['tickets'])}" for r in rows)
            + "."
        ),
        "stuck_tickets": lambda: (
            f"{v} tickets are stuck ("
            + ", ".join(f"{_fmt(r['tickets'])} {r['status'].replace('_', ' ')}" for r in rows)
            + ")."
        ),
        "response_times": lambda: (
            f"Median first response {when}: {v} minutes ({figure.label.split('(')[1].rstrip(')')})."
        ),
        "week_over_week": lambda: (
            "This week so far vs the same days last week: "
            + "; ".join(
                f"{r['metric'].replace('_', ' ')} {_fmt(r['this_week'])} vs "
                f"{_fmt(r['last_week'])} ({_fmt(r['change_pct'])}%)"
                for r in rows
            )
            + "."
        ),
        "category_problems": lambda: (
            f"The most problematic category {when} is {v}: escalations "
            f"{_fmt(first.get('escalation_pct'))}%, low ratings {_fmt(first.get('low_rating_pct'))}%, "
            f"AI worse than human {_fmt(first.get('human_better_pct'))}%."
        ),
        "csat": lambda: f"Average rating{scope} {when}: {v} of 5 ({_fmt(first.get('rated'))} rated tickets).",
        "ai_cost": lambda: (
            f"AI answers cost ${v} {when} (" + ", ".join(f"{r['ai_model']} ${_fmt(r['cost_usd'])}" for r in rows) + ")."
        ),
        "agent_task_failures": lambda: (
            f"{v} agent tasks failed {when}; highest failure rate: "
            f"{first.get('task_type', '-')} ({_fmt(first.get('failure_pct'))}%)."
        ),
        "ai_vs_human": lambda: (
            f"{when.capitalize()}: "
            + ", ".join(
                f"{r['handled_by'].replace('_', ' ')} {_fmt(r['tickets'])} ({_fmt(r['share_pct'])}%)" for r in rows
            )
            + "."
        ),
        "daily_volume": lambda: (
            f"The busiest day {when} was {v}."
            if figure.label.startswith("day")
            else f"{v} tickets a day on average {when}."
        ),
        "tickets_by_channel": lambda: (
            f"Top channel {when}: {v} ({_fmt(first.get('tickets'))} tickets, {_fmt(first.get('share_pct'))}%)."
        ),
        "tickets_by_category": lambda: (
            f"Top category {when}: {v} ({_fmt(first.get('tickets'))} tickets, {_fmt(first.get('share_pct'))}%)."
        ),
    }
    # Lazy: each phrase reads the columns of its own query only.
    return " ".join(phrases[choice.query]().split())
