"""Answering questions without a model: the question's slots (servers/analytics/question.py) mapped to a vetted
query, its parameters, how to read the key figure, and the interpretation every answer starts with.

A question is answered only when every part of it that matters was understood and a vetted query can express all
of it together; otherwise the answer is a refusal that says which part it could not use, or why the data cannot
answer. The most specific vetted query that expresses a question is preferred (the small ones are the fast ones);
the general ones (ticket_metrics, agent_tasks, answer_comparison) take every filter the parser knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from servers.analytics import question as q
from servers.analytics.question import Filter, Parsed, Period, Unanswerable

__all__ = ["Period", "QueryChoice", "Refusal", "choose", "parse_period"]


@dataclass
class QueryChoice:
    query: str
    params: dict[str, Any]
    period: Period | None
    key: str  # how to read the key figure from the result; see answers.key_figure
    filters: dict[str, str] = field(default_factory=dict)
    interpretation: str = ""  # "Tickets with urgency critical, the last 30 days"
    kind: str = "count"  # count | pct | number | money | rating | minutes | hours | seconds | ms | label | date
    scale: float = 1.0  # the figure is the column times this (unit conversion)
    detail: str = ""  # which columns to quote after the figure; see answers.sentence
    zero_when_missing: bool = False  # a count over no matching group is 0, not 'no data'


@dataclass
class Refusal:
    reason: str


@dataclass(frozen=True)
class Metric:
    column: str
    label: str
    kind: str
    better: int = 0  # +1 when higher is better, -1 when lower is better (for "best" / "worst")
    counts: bool = False  # a count: 0 when nothing matches
    shown_in: str | None = None  # the unit a duration is given in unless the question asks for another


TICKET_METRICS: dict[str, Metric] = {m.column: m for m in (
    Metric("tickets", "Tickets", "count", counts=True),
    Metric("share_pct", "Share of tickets", "pct", counts=True),
    Metric("answered", "Answered tickets", "count", counts=True),
    Metric("ai_handled", "Tickets handled by AI alone", "count", counts=True),
    Metric("ai_share_pct", "Share of answered tickets handled by AI alone", "pct", +1, counts=True),
    Metric("ai_edited_pct", "Share of answered tickets where a human edited the AI draft", "pct", counts=True),
    Metric("escalation_pct", "Escalation rate (share of answered tickets a human wrote the answer for)", "pct", -1,
           counts=True),
    Metric("ai_answered", "Tickets the AI wrote an answer for", "count", counts=True),
    Metric("ai_answered_pct", "Share of tickets the AI wrote an answer for", "pct", +1, counts=True),
    Metric("drafts_created", "AI answers saved as drafts", "count", counts=True),
    Metric("resolution_rate_pct", "Resolution rate (drafts created / AI answered)", "pct", +1),
    Metric("handoffs", "Tickets the AI handed off to a human", "count", counts=True),
    Metric("handoff_pct", "Hand-off rate (share of tickets the AI handed to a human)", "pct", -1, counts=True),
    Metric("resolved", "Resolved tickets", "count", counts=True),
    Metric("rated", "Rated tickets", "count", counts=True),
    Metric("rated_pct", "Share of tickets rated by the customer", "pct", +1, counts=True),
    Metric("avg_rating", "Average rating (1-5)", "rating", +1),
    Metric("low_rating_pct", "Share of ratings that are 1-2", "pct", -1),
    Metric("high_rating_pct", "Share of ratings that are 4-5", "pct", +1),
    Metric("median_response_seconds", "Median first response time", "seconds", -1, shown_in="minute"),
    Metric("avg_response_seconds", "Average (mean) first response time", "seconds", -1, shown_in="minute"),
    Metric("median_resolution_seconds", "Median time to resolve", "seconds", -1, shown_in="hour"),
    Metric("avg_resolution_seconds", "Average (mean) time to resolve", "seconds", -1, shown_in="hour"),
    Metric("median_ai_answer_seconds", "Median time from arrival to the AI's answer", "seconds", -1),
    Metric("avg_ai_answer_seconds", "Average (mean) time from arrival to the AI's answer", "seconds", -1),
    Metric("cost_usd", "AI cost", "money", -1),
    Metric("avg_cost_usd", "Average AI cost per AI answer", "money", -1),
    Metric("customers", "Distinct identified customers", "count", counts=True),
    Metric("identified_pct", "Share of tickets from identified customers", "pct", counts=True),
    Metric("unknown_senders", "Tickets from unknown senders", "count", counts=True),
)}
TASK_METRICS: dict[str, Metric] = {m.column: m for m in (
    Metric("tasks", "AI agent tasks", "count", counts=True),
    Metric("share_pct", "Share of AI agent tasks", "pct", counts=True),
    Metric("failure_pct", "Failure rate (failed / finished tasks)", "pct", -1),
    Metric("success_pct", "Success rate (succeeded / finished tasks)", "pct", +1),
    Metric("avg_duration_ms", "Average task duration", "ms", -1),
    Metric("median_duration_ms", "Median task duration", "ms", -1),
    Metric("tickets", "Tickets with at least one AI agent task", "count", counts=True),
    Metric("tasks_per_ticket", "AI agent tasks per ticket that had any (average)", "number"),
)}
COMPARISON_METRICS: dict[str, Metric] = {m.column: m for m in (
    Metric("compared", "AI answers compared with the human's", "count", counts=True),
    Metric("share_pct", "Share of compared answers", "pct", counts=True),
    Metric("avg_similarity", "Average similarity of the AI's answer to the human's (0-1)", "number", +1),
    Metric("median_similarity", "Median similarity of the AI's answer to the human's (0-1)", "number", +1),
    Metric("unchanged", "AI answers a human sent unchanged (similarity 1.0)", "count", counts=True),
)}

TICKET_DIMENSIONS = {"category": 1, "channel": 2, "urgency": 3, "language": 4, "handled": 5, "status": 6, "day": 7,
                     "weekday": 8, "rating": 9, "model": 10, "week": 11, "month": 12, "hour": 13}
TASK_DIMENSIONS = {"task_type": 1, "category": 2, "task_status": 3, "error": 4, "day": 5}
COMPARISON_DIMENSIONS = {"category": 1, "verdict": 2}
DIMENSION_NOUNS = {"category": "Category", "channel": "Channel", "urgency": "Urgency", "language": "Language",
                   "handled": "Who answered", "status": "Status", "day": "Day", "weekday": "Day of the week",
                   "rating": "Rating", "model": "AI model", "week": "Week", "month": "Month", "hour": "Hour (UTC)",
                   "task_type": "Task type", "task_status": "Task status", "error": "Error", "verdict": "Verdict"}
# Filter slot -> (ticket_metrics parameter, bit order).
TICKET_SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "category": ("categories", q.CATEGORIES), "secondary": ("secondary", q.CATEGORIES),
    "channel": ("channels", q.CHANNELS), "urgency": ("urgencies", q.URGENCIES), "language": ("languages", q.LANGUAGES),
    "status": ("statuses", q.STATUSES), "handled": ("handled", q.HANDLED), "weekday": ("weekdays", q.WEEKDAYS),
    "model": ("models", q.MODELS),
}
TASK_SETS = {"task_type": ("task_types", q.TASK_TYPES), "task_status": ("statuses", q.TASK_STATUSES),
             "category": ("categories", q.CATEGORIES), "error": ("errors", q.ERROR_KINDS)}
COMPARISON_SETS = {"category": ("categories", q.CATEGORIES), "verdict": ("verdicts", q.VERDICTS)}
STUCK = ("new", "ai_answered", "draft_created", "escalated")
MODEL_NAMES = {values: name for _, values, name in q.MODEL_WORDS}


def bits(values: tuple[str, ...], order: tuple[str, ...]) -> int:
    return sum(1 << order.index(v) for v in values if v in order)


def parse_period(text: str, now: datetime) -> Period | None:
    """The one period a question names; None when it names none (the caller decides the default)."""
    periods = q.read_periods(q.Words(q.normalize(text)), now)
    return periods[0] if periods else None


def choose(question: str, now: datetime) -> QueryChoice | Refusal:
    """The vetted query that answers `question`, or why it cannot be answered reliably."""
    try:
        parsed = q.parse(question, now)
        if parsed.not_understood:
            words = ", ".join(f"'{w}'" for w in dict.fromkeys(parsed.not_understood))
            return Refusal(f"I did not understand {words} in the question, and an answer that ignored "
                           f"{'them' if len(parsed.not_understood) > 1 else 'it'} could be wrong")
        return plan(parsed, now)
    except Unanswerable as exc:
        return Refusal(str(exc))


def plan(parsed: Parsed, now: datetime) -> QueryChoice:
    if parsed.subject == "tasks":
        return _plan_general(parsed, now, "agent_tasks", TASK_METRICS, TASK_DIMENSIONS, TASK_SETS, "tasks")
    if parsed.subject == "comparisons":
        return _plan_general(parsed, now, "answer_comparison", COMPARISON_METRICS, COMPARISON_DIMENSIONS,
                             COMPARISON_SETS, "compared")
    if parsed.subject == "rules":
        return _plan_rules(parsed)
    if parsed.subject == "messages":
        return _plan_messages(parsed, now)
    return _plan_tickets(parsed, now)


def _period(parsed: Parsed, now: datetime) -> Period:
    return parsed.period or Period(now - timedelta(days=q.RETENTION_DAYS), now,
                                   f"all data (the last {q.RETENTION_DAYS} days)")


def _span(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}


# --- tickets ----------------------------------------------------------------------------------------------------

def _plan_tickets(parsed: Parsed, now: datetime) -> QueryChoice:
    period = _period(parsed, now)
    special = _special(parsed, now, period)
    if special is not None:
        return special
    if parsed.metric == "change":
        return _plan_change(parsed, now)
    if parsed.metric == "distinct":
        assert parsed.dimension is not None
        params = _ticket_params(parsed.filters, parsed.thresholds, period, by=TICKET_DIMENSIONS[parsed.dimension])
        noun = DIMENSION_NOUNS[parsed.dimension].lower()
        return QueryChoice("ticket_metrics", params, period, "count:label",
                           interpretation=_interpretation(_without(parsed), f"Distinct {noun} values with tickets",
                                                          period), detail="distinct", zero_when_missing=True)
    metric = _ticket_metric(parsed)
    if parsed.groups is not None:
        return _plan_difference(parsed, period, metric)
    if parsed.dimension is not None and parsed.breakdown and parsed.direction is None and parsed.polarity is None:
        shares = parsed.share and not parsed.filters and metric.column == "tickets"
        return _plan_breakdown(parsed, period, TICKET_METRICS["share_pct"] if shares else metric)
    if parsed.dimension is not None and (parsed.direction is not None or parsed.polarity is not None):
        return _plan_ranking(parsed, period, metric)
    if parsed.share:
        return _plan_share(parsed, period, metric)
    if parsed.dimension is not None or parsed.direction is not None or parsed.polarity is not None:
        return _plan_ranking(parsed, period, metric)
    if metric.column == "per_day":
        return _plan_per_day(parsed, period)
    simple = _simple_query(parsed, period, metric)
    if simple is not None:
        return simple
    params = _ticket_params(parsed.filters, parsed.thresholds, period)
    return _one_figure("ticket_metrics", params, period, metric, _interpretation(parsed, metric.label, period),
                       parsed.unit)


def _special(parsed: Parsed, now: datetime, period: Period) -> QueryChoice | None:
    """The vetted queries with a fixed shape: stuck tickets, the funnel, the problem score, who answered."""
    if parsed.metric == "problem_score":
        if parsed.filters or parsed.direction == "least" or parsed.polarity == "best":
            raise Unanswerable("the problem score ranks all categories from the most problematic; it takes no "
                               "filter and does not name the least problematic")
        return QueryChoice("category_problems", _span(period), period, "first:category",
                           interpretation=f"Most problematic category (escalations + low ratings + AI worse than "
                                          f"human), {period.label}", kind="label", detail="problems")
    if parsed.metric == "who_answered":
        if parsed.filters:
            raise Unanswerable("the AI-versus-human split takes no filter; ask for one group's share instead")
        return QueryChoice("ai_vs_human", _span(period), period, "row:handled_by=ai:share_pct",
                           interpretation=f"Who answered tickets, {period.label}", kind="pct", detail="who")
    if parsed.metric == "funnel":
        return QueryChoice("funnel", _span(period), period, "first:tickets",
                           interpretation=f"Ticket funnel, {period.label}", detail="funnel")
    if parsed.stuck_hours is not None:
        hours = parsed.stuck_hours
        label = f"Stuck tickets (still new, AI-answered, drafted or escalated after {_hours(hours)})"
        if not parsed.filters and parsed.period is None:
            return QueryChoice("stuck_tickets", {"now": now, "older_than_hours": hours}, None, "sum:tickets",
                               interpretation=f"{label}, now", detail="stuck", zero_when_missing=True)
        stuck = [f for f in parsed.filters if f.slot != "status"] + [Filter("status", STUCK)]
        end = min(period.end, now - timedelta(hours=hours))
        if end <= period.start:
            raise Unanswerable(f"no ticket of {period.label} can have been waiting {_hours(hours)} yet")
        window = Period(period.start, end, period.label)
        params = _ticket_params(stuck, parsed.thresholds, window)
        return _one_figure("ticket_metrics", params, window, TICKET_METRICS["tickets"],
                           _interpretation(parsed, label, period, skip={"status"}))
    return None


def _hours(hours: int) -> str:
    return f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"


def _ticket_metric(parsed: Parsed) -> Metric:
    """The column a ticket question measures."""
    m, agg = parsed.metric, parsed.aggregate
    if m in (None, "count", "ratio", "distinct"):
        column = "tickets"
    elif m == "rating" and (parsed.has("rating") or (parsed.counting and agg is None)):
        # "how many 1-star ratings": a count of the tickets rated so, not their average.
        column = "tickets" if parsed.has("rating") else "rated"
    elif m == "rating":
        column = "avg_rating" if agg in (None, "avg", "median") else "rated"
        if agg == "median":
            raise Unanswerable("ratings are averaged (the documented CSAT), there is no median rating query")
    elif m == "rated":
        column = "rated"
    elif m == "response":
        column = "avg_response_seconds" if agg == "avg" else "median_response_seconds"
    elif m == "resolution":
        column = "avg_resolution_seconds" if agg == "avg" else "median_resolution_seconds"
    elif m == "ai_answer_seconds":
        column = "median_ai_answer_seconds" if agg == "median" else "avg_ai_answer_seconds"
    elif m == "cost":
        column = "avg_cost_usd" if agg in ("avg", "median") else "cost_usd"
        if agg == "median":
            raise Unanswerable("AI cost is summed or averaged; there is no median cost query")
    elif m == "per_day":
        if agg == "median":
            raise Unanswerable("tickets per day are averaged; there is no median among the vetted queries")
        return Metric("per_day", "Tickets per day on average (days with tickets)", "number")
    else:
        column = m
    if agg == "avg" and column in ("tickets", "rated", "drafts_created", "handoffs", "customers", "ai_answered"):
        raise Unanswerable("an average needs a quantity per ticket or per day (a time, a rating, a cost); "
                           f"'{column.replace('_', ' ')}' is a count")
    if agg == "median" and not column.startswith("median_"):
        # Never answer a median with an average or a total.
        raise Unanswerable(f"there is no median of {column.replace('_', ' ')} among the vetted queries")
    return TICKET_METRICS[column]


def _simple_query(parsed: Parsed, period: Period, metric: Metric) -> QueryChoice | None:
    """The small vetted query that expresses the question exactly, if one does."""
    slots = {f.slot for f in parsed.filters}
    if parsed.thresholds or not all(len(f.values) == 1 and not f.negated for f in parsed.filters):
        return None
    category = parsed.values("category")[0] if "category" in slots else None
    channel = parsed.values("channel")[0] if "channel" in slots else None
    span = _span(period)
    filters = ({"category": category} if category else {}) | ({"channel": channel} if channel else {})
    if metric.column == "tickets" and slots <= {"category", "channel"}:
        return QueryChoice("ticket_count", span | {"category": category, "channel": channel}, period, "first:tickets",
                           filters, _interpretation(parsed, metric.label, period), detail="count",
                           zero_when_missing=True)
    if metric.column == "tickets" and slots <= {"category", "handled"} and parsed.values("handled") == ("ai",):
        return QueryChoice("ai_handled_count", span | {"category": category}, period, "first:ai_handled",
                           filters, _interpretation(parsed, metric.label, period), detail="ai_handled",
                           zero_when_missing=True)
    if metric.column == "resolution_rate_pct" and slots <= {"category"}:
        return QueryChoice("resolution_rate", span | {"category": category}, period, "first:resolution_rate_pct",
                           filters, _interpretation(parsed, metric.label, period), kind="pct", detail="resolution")
    if metric.column == "avg_rating" and slots <= {"category"}:
        return QueryChoice("csat", span | {"category": category}, period, "first:avg_rating", filters,
                           _interpretation(parsed, metric.label, period), kind="rating", detail="csat")
    if metric.column == "cost_usd" and not slots:
        return QueryChoice("ai_cost", span, period, "sum:cost_usd", {}, _interpretation(parsed, metric.label, period),
                           kind="money", detail="cost", zero_when_missing=True)
    if metric.column == "median_response_seconds" and slots == {"handled"} and parsed.values("handled") in (
            ("ai",), ("human",)) and parsed.unit in (None, "minute"):
        who = parsed.values("handled")[0]
        return QueryChoice("response_times", span, period, f"row:handled_by={who}:median_minutes", {},
                           _interpretation(parsed, metric.label, period), kind="minutes")
    return None


def _one_figure(query: str, params: dict[str, Any], period: Period, metric: Metric, interpretation: str,
                unit: str | None = None) -> QueryChoice:
    kind, scale = _unit(metric.kind, unit or metric.shown_in)
    return QueryChoice(query, params, period, f"first:{metric.column}", interpretation=interpretation, kind=kind,
                       scale=scale, detail=metric.column, zero_when_missing=metric.counts)


def _unit(kind: str, unit: str | None) -> tuple[str, float]:
    """The figure's kind and the factor from the column's unit to the one the question asked for."""
    minutes = {"seconds": 1 / 60, "minutes": 1.0, "hours": 60.0, "ms": 1 / 60000}
    if unit is None or kind not in minutes:
        return kind, 1.0
    asked = unit + "s"
    if asked == "days":
        return "days", minutes[kind] / 1440
    return asked, minutes[kind] / minutes[asked]


def _ticket_params(filters: list[Filter], thresholds: dict[str, int], period: Period, by: int = 0
                   ) -> dict[str, Any]:
    params: dict[str, Any] = _span(period) | {"by": by}
    for f in filters:
        if f.slot in TICKET_SETS:
            name, order = TICKET_SETS[f.slot]
            unknown = [v for v in f.values if v not in order]
            if unknown:
                raise Unanswerable(f"the vetted queries cannot filter {f.slot} = {', '.join(unknown)}")
            if f.negated and f.slot == "language":
                params["not_languages"] = params.get("not_languages", 0) | bits(f.values, order)
                continue
            mask = bits(f.values, order)
            if f.negated:
                mask = (1 << len(order)) - 1 & ~mask
            params[name] = params[name] & mask if params.get(name) else mask
            if params[name] == 0:
                raise Unanswerable(f"it asks for {f.slot} to be two different things at once")
        elif f.slot == "rating":
            low, high = min(int(v) for v in f.values), max(int(v) for v in f.values)
            params["min_rating"], params["max_rating"] = low, high
        elif f.slot == "rated":
            params["rated"] = 1 if f.values == ("yes",) else 2
        elif f.slot == "ai_answer":
            params["ai_answer"] = 1 if f.values == ("yes",) else 2
        elif f.slot == "customer":
            params["customer"] = 1 if f.values == ("known",) else 2
        else:
            raise Unanswerable(f"tickets cannot be filtered by {f.slot.replace('_', ' ')}")
    return params | thresholds


def _plan_share(parsed: Parsed, period: Period, metric: Metric) -> QueryChoice:
    """'What share of <base> were <part>?' The part is the filter said after the verb (or the last one)."""
    if parsed.metric == "rating" and not parsed.has("rating"):
        column = TICKET_METRICS["rated_pct"]
        params = _ticket_params(parsed.filters, parsed.thresholds, period)
        return _one_figure("ticket_metrics", params, period, column, _interpretation(parsed, column.label, period))
    if parsed.metric == "rating":
        metric = TICKET_METRICS["tickets"]
    if metric.column not in ("tickets", "rated"):
        if metric.kind == "pct":  # already a rate: "what is the escalation rate in percent"
            params = _ticket_params(parsed.filters, parsed.thresholds, period)
            return _one_figure("ticket_metrics", params, period, metric, _interpretation(parsed, metric.label, period))
        raise Unanswerable(f"a share of {metric.label.lower()} is not a figure the vetted queries give")
    if metric.column == "rated":
        column = TICKET_METRICS["rated_pct"]
        params = _ticket_params(parsed.filters, parsed.thresholds, period)
        return _one_figure("ticket_metrics", params, period, column, _interpretation(parsed, column.label, period))
    if not parsed.filters:
        if parsed.dimension is not None and parsed.direction is not None:
            return _plan_ranking(parsed, period, TICKET_METRICS["share_pct"])
        raise Unanswerable("it asks for a share without saying of what (e.g. 'what share of tickets came by email')")
    part = _part(parsed)
    base = [f for f in parsed.filters if f is not part]
    if part.slot == "handled" and not part.negated and len(part.values) == 1 and part.values[0] != "unanswered":
        column = {"ai": "ai_share_pct", "ai_edited": "ai_edited_pct", "human": "escalation_pct"}[part.values[0]]
        m = TICKET_METRICS[column]
        if parsed.dimension is not None:
            return _plan_ranking(_without(parsed, part), period, m)
        return _one_figure("ticket_metrics", _ticket_params(base, parsed.thresholds, period), period, m,
                           _interpretation(_without(parsed, part), m.label, period))
    of_ratings = parsed.has("rated") or re.search(r"\b(?:of|among) (?:the |our |all )?(?:ratings|rated|reviews)\b|"
                                                  r"\bratings (?:were|are|was)\b", parsed.text)
    if part.slot == "rating" and set(part.values) in ({"1", "2"}, {"4", "5"}) and of_ratings:
        m = TICKET_METRICS["low_rating_pct" if "1" in part.values else "high_rating_pct"]
        base = [f for f in base if f.slot != "rated"]
        return _one_figure("ticket_metrics", _ticket_params(base, parsed.thresholds, period), period, m,
                           _interpretation(_without(parsed, part, "rated"), m.label, period))
    if part.slot == "rated":
        m = TICKET_METRICS["rated_pct"]
        figure = _one_figure("ticket_metrics", _ticket_params(base, parsed.thresholds, period), period, m,
                             _interpretation(_without(parsed, part), m.label, period))
        if part.values == ("no",):
            figure.key, figure.interpretation = "complement:rated_pct", _interpretation(
                _without(parsed, part), "Share of tickets not rated by the customer", period)
        return figure
    if any(f.slot == part.slot for f in base):
        raise Unanswerable(f"it asks for one {part.slot.replace('_', ' ')} as a share of another; ask for each "
                           "count, or for a share of all tickets")
    if part.slot == "customer":
        m = TICKET_METRICS["identified_pct"]
        figure = _one_figure("ticket_metrics", _ticket_params(base, parsed.thresholds, period), period, m,
                             _interpretation(_without(parsed, part), m.label, period))
        if part.values == ("unknown",):
            figure.key, figure.interpretation = "complement:identified_pct", _interpretation(
                _without(parsed, part), "Share of tickets from unknown senders", period)
        return figure
    if part.slot == "ai_answer":
        m = TICKET_METRICS["ai_answered_pct"]
        figure = _one_figure("ticket_metrics", _ticket_params(base, parsed.thresholds, period), period, m,
                             _interpretation(_without(parsed, part), m.label, period))
        if part.values == ("no",):
            figure.key, figure.interpretation = "complement:ai_answered_pct", _interpretation(
                _without(parsed, part), "Share of tickets that never got an AI answer", period)
        return figure
    dimension = {"category": "category", "channel": "channel", "urgency": "urgency", "language": "language",
                 "status": "status", "handled": "handled", "weekday": "weekday", "rating": "rating",
                 "model": None}.get(part.slot)
    if dimension is None or parsed.thresholds or parsed.dimension is not None:
        raise Unanswerable(f"a share of tickets by {part.slot.replace('_', ' ')} is not among the vetted queries")
    params = _ticket_params(base, parsed.thresholds, period, by=TICKET_DIMENSIONS[dimension])
    values = part.values
    label = f"Share of {_noun(_without(parsed, part))} that are {_phrase(part)}"
    if part.slot == "rating" and of_ratings:
        params["rated"] = 1  # the share among rated tickets: the unrated group is left out
        label = f"Share of rated {_noun(_without(parsed, part, 'rated'))} that are {_phrase(part)}"
    if part.negated:
        label = f"Share of {_noun(_without(parsed, part))} that are {_phrase(part)}"
    return QueryChoice("ticket_metrics", params, period,
                       f"{'share-not' if part.negated else 'share'}:label={'|'.join(values)}:tickets",
                       interpretation=f"{label}, {period.label}", kind="pct", detail="share",
                       zero_when_missing=True)


def _part(parsed: Parsed) -> Filter:
    named = [f for f in parsed.filters if f.slot == parsed.part]
    if named:
        return named[0]
    # "the share of escalations among shipping tickets": the part before "among", the base after it.
    among = re.search(r"\b(?:among|amongst|within|out of|of all)\b", parsed.text)
    if among:
        before = [f for f in parsed.filters if f.at < among.start() and f.slot != "rated"]
        if before:
            return max(before, key=lambda f: f.at)
    verb = None
    for word in (" were ", " was ", " are ", " is ", " came ", " come ", " got ", " get ", " did ", " does ",
                 " ended ", " end ", " had ", " have ", " went ", " handled ", " answered "):
        at = parsed.text.find(word)
        if at >= 0 and (verb is None or at < verb):
            verb = at
    after = [f for f in parsed.filters if verb is not None and f.at > verb and f.slot != "rated"]
    if len(after) == 1:
        return after[0]
    candidates = after or [f for f in parsed.filters if f.slot != "rated"] or parsed.filters
    return max(candidates, key=lambda f: f.at)


def _without(parsed: Parsed, *removed: Filter | str) -> Parsed:
    copy = Parsed(**{k: v for k, v in parsed.__dict__.items()})
    copy.filters = [f for f in parsed.filters if f not in removed and f.slot not in removed]
    return copy


def _plan_ranking(parsed: Parsed, period: Period, metric: Metric) -> QueryChoice:
    """'Which channel has the fewest tickets', 'the category with the worst average rating', 'by day'."""
    handled = [f for f in parsed.filters if f.slot == "handled" and len(f.values) == 1 and not f.negated]
    if metric.column == "tickets" and handled and (parsed.share or parsed.often) and \
            handled[0].values[0] in ("ai", "ai_edited", "human"):
        # "Which category does the AI handle alone most often": how often within each group, a rate.
        rate = {"ai": "ai_share_pct", "ai_edited": "ai_edited_pct", "human": "escalation_pct"}[handled[0].values[0]]
        return _plan_ranking(_without(parsed, handled[0]), period, TICKET_METRICS[rate])
    flags = [f for f in parsed.filters if f.slot in ("customer", "rated", "ai_answer") and not f.negated]
    if metric.column == "tickets" and flags and parsed.share:
        # "Which channel has the highest share of unknown senders": a rate within each group; the unknown share is
        # the complement of the identified share, so the ranking runs the other way.
        column, positive = {"customer": ("identified_pct", "known"), "rated": ("rated_pct", "yes"),
                            "ai_answer": ("ai_answered_pct", "yes")}[flags[0].slot]
        rest = _without(parsed, flags[0])
        if flags[0].values != (positive,):
            rest.direction = "least" if _direction(parsed, TICKET_METRICS[column]) == "most" else "most"
            rest.polarity = None
        return _plan_ranking(rest, period, TICKET_METRICS[column])
    rating = [f for f in parsed.filters if f.slot == "rating" and set(f.values) in ({"1", "2"}, {"4", "5"})]
    if metric.column == "tickets" and rating and (parsed.share or parsed.often):
        # "Which category has the highest share of low ratings": the share within each group's ratings.
        rate = "low_rating_pct" if "1" in rating[0].values else "high_rating_pct"
        return _plan_ranking(_without(parsed, rating[0], "rated"), period, TICKET_METRICS[rate])
    dimension = parsed.dimension
    if dimension is None:
        raise Unanswerable("it asks for the most or the least without saying of what (a category, a channel, a day?)")
    if dimension not in TICKET_DIMENSIONS:
        raise Unanswerable(f"tickets cannot be grouped by {dimension.replace('_', ' ')}")
    direction = _direction(parsed, metric)
    if metric.column == "per_day":
        raise Unanswerable("an average per day cannot be ranked by group here")
    slots = {f.slot for f in parsed.filters}
    noun = DIMENSION_NOUNS[dimension]
    extreme = {"most": "the most", "least": "the fewest"}[direction] if metric.column == "tickets" else \
        {"most": "the highest", "least": "the lowest"}[direction]
    if metric.column == "tickets":  # the filters are said in the noun: "the fewest tickets on email"
        interpretation = f"{noun} with {extreme} {_noun(parsed)}, {period.label}"
    else:
        what = f"{extreme} {_lower_first(metric.label)}"
        interpretation = _interpretation(parsed, f"{noun} with {what}", period, filters_first=False)
    if not slots and metric.column == "tickets" and not parsed.thresholds:
        if dimension == "day":
            return QueryChoice("daily_volume", _span(period), period,
                               f"{'max' if direction == 'most' else 'min'}:tickets:day",
                               interpretation=interpretation, kind="date", detail="day")
        if dimension in ("category", "channel") and direction == "most":
            return QueryChoice(f"tickets_by_{dimension}", _span(period), period, f"first:{dimension}",
                               interpretation=interpretation, kind="label", detail="top")
    params = _ticket_params(parsed.filters, parsed.thresholds, period, by=TICKET_DIMENSIONS[dimension])
    return QueryChoice("ticket_metrics", params, period,
                       f"{'top' if direction == 'most' else 'bottom'}:{metric.column}:label",
                       interpretation=interpretation, kind="date" if dimension == "day" else "label",
                       detail=f"rank:{metric.column}:{':'.join(map(str, _unit(metric.kind, metric.shown_in)))}")


def _lower_first(label: str) -> str:
    """'Average rating' -> 'average rating', but 'AI cost' stays."""
    return label if label[1:2].isupper() else label[0].lower() + label[1:]


def _direction(parsed: Parsed, metric: Metric) -> str:
    if parsed.direction is not None:
        return parsed.direction
    if parsed.polarity is not None:
        if metric.better == 0:
            raise Unanswerable(f"'{parsed.polarity}' needs a measure that is good or bad (a rating, a rate, a time); "
                               f"for {metric.label.lower()} say 'most' or 'fewest'")
        return "most" if (metric.better > 0) == (parsed.polarity == "best") else "least"
    return "most"


def _plan_breakdown(parsed: Parsed, period: Period, metric: Metric) -> QueryChoice:
    """'Tickets for each channel': every group's figure; the key figure is the largest group."""
    assert parsed.dimension is not None
    if parsed.dimension not in TICKET_DIMENSIONS or metric.column == "per_day":
        raise Unanswerable(f"tickets cannot be broken down by {parsed.dimension.replace('_', ' ')} here")
    params = _ticket_params(parsed.filters, parsed.thresholds, period, by=TICKET_DIMENSIONS[parsed.dimension])
    kind, scale = _unit(metric.kind, parsed.unit or metric.shown_in)
    noun = DIMENSION_NOUNS[parsed.dimension].lower()
    return QueryChoice("ticket_metrics", params, period, f"top:{metric.column}:label",
                       interpretation=_interpretation(parsed, f"{metric.label} by {noun}", period),
                       kind="label", detail=f"breakdown:{metric.column}:{kind}:{scale}")


def _plan_difference(parsed: Parsed, period: Period, metric: Metric) -> QueryChoice:
    """'How many more email tickets than WhatsApp tickets': the difference of two groups' counts."""
    assert parsed.groups is not None and parsed.dimension is not None
    if metric.column != "tickets" or parsed.dimension not in TICKET_DIMENSIONS:
        raise Unanswerable("only differences between the ticket counts of two groups are among the vetted queries")
    first, second = parsed.groups
    if parsed.direction == "fewer":  # "how many fewer <a> than <b>" is b - a
        first, second = second, first
    params = _ticket_params(parsed.filters, parsed.thresholds, period, by=TICKET_DIMENSIONS[parsed.dimension])
    a, b = (_phrase(Filter(parsed.dimension, (value,))) for value in (first, second))
    if parsed.metric == "ratio":
        return QueryChoice("ticket_metrics", params, period, f"ratio:tickets:label={first}:label={second}",
                           interpretation=_interpretation(parsed, f"Tickets {a} per ticket {b}", period),
                           kind="number", detail="diff")
    return QueryChoice("ticket_metrics", params, period, f"diff:tickets:label={first}:label={second}",
                       interpretation=_interpretation(parsed, f"Tickets {a} minus tickets {b}", period),
                       detail="diff", zero_when_missing=True)


def _plan_per_day(parsed: Parsed, period: Period) -> QueryChoice:
    label = "Tickets per day on average (over the days with tickets)"
    if not parsed.filters and not parsed.thresholds:
        return QueryChoice("daily_volume", _span(period), period, "avg:tickets",
                           interpretation=_interpretation(parsed, label, period), kind="number", detail="per_day")
    params = _ticket_params(parsed.filters, parsed.thresholds, period, by=TICKET_DIMENSIONS["day"])
    return QueryChoice("ticket_metrics", params, period, "avg:tickets",
                       interpretation=_interpretation(parsed, label, period), kind="number", detail="per_day")


def _plan_change(parsed: Parsed, now: datetime) -> QueryChoice:
    if parsed.periods is None:
        if parsed.period is not None and parsed.period.label == "last week" and not parsed.filters:
            handled = parsed.values("handled") == ("ai",)
            return QueryChoice("week_over_week", {"now": now}, None,
                               f"row:metric={'ai_handled' if handled else 'tickets'}:change_pct",
                               interpretation="Change from the same days of last week to this week so far",
                               kind="pct", detail="wow")
        raise Unanswerable("it asks for a change without naming both periods (e.g. 'from October to November')")
    first, second = parsed.periods
    if first.start.day == 1 and second.start.day == 1 and first.end == _next(first.start) and \
            (second.end == _next(second.start) or second.end == now):
        by = TICKET_DIMENSIONS["month"]
        labels = (f"{first.start:%Y-%m}", f"{second.start:%Y-%m}")
    else:
        raise Unanswerable("a change is computed between two calendar months here; name two months")
    if first.end > second.start:
        raise Unanswerable("the two periods overlap")
    window = Period(first.start, second.end, f"{first.label} to {second.label}")
    params = _ticket_params(parsed.filters, parsed.thresholds, window, by=by)
    return QueryChoice("ticket_metrics", params, window,
                       f"change:tickets:label={labels[0]}:label={labels[1]}",
                       interpretation=_interpretation(parsed, f"Change in {_noun(parsed)} from {first.label} to "
                                                              f"{second.label}", None),
                       kind="pct", detail="change")


def _next(start: datetime) -> datetime:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


# --- tasks, comparisons, rules, messages -------------------------------------------------------------------------

def _plan_general(parsed: Parsed, now: datetime, query: str, metrics: dict[str, Metric], dimensions: dict[str, int],
                  sets: dict[str, tuple[str, tuple[str, ...]]], count_column: str) -> QueryChoice:
    period = _period(parsed, now)
    if parsed.thresholds or parsed.periods or parsed.stuck_hours is not None or parsed.groups:
        raise Unanswerable(f"durations, changes and comparisons are not among the vetted {query.replace('_', ' ')} "
                           "queries")
    params: dict[str, Any] = _span(period) | {"by": 0}
    for f in parsed.filters:
        if f.slot not in sets:
            raise Unanswerable(f"{query.replace('_', ' ')} cannot be filtered by {f.slot.replace('_', ' ')}")
        name, order = sets[f.slot]
        mask = bits(f.values, order)
        params[name] = params[name] & mask if params.get(name) else mask
    column = parsed.metric if parsed.metric in metrics else count_column
    if parsed.aggregate == "median" and column == "avg_similarity":
        column = "median_similarity"
    if parsed.aggregate == "median" and not column.startswith("median_"):
        raise Unanswerable(f"there is no median of {column.replace('_', ' ')} among the vetted queries")
    if parsed.aggregate == "avg" and metrics.get(column, metrics[count_column]).kind == "count":
        raise Unanswerable(f"an average of {column.replace('_', ' ')} (per day, per ticket?) is not among the vetted "
                           "queries; ask for the count")
    if query == "agent_tasks" and parsed.dimension is None and (parsed.direction or parsed.polarity):
        parsed.dimension = "task_type"  # "the most common agent task"
    if parsed.share and column == count_column:
        if query == "answer_comparison" and parsed.has("verdict"):
            verdict = parsed.values("verdict")[0]
            column = f"{verdict}_pct"
            params.pop("verdicts", None)
            metric = Metric(column, f"Share of compared answers judged {verdict.replace('_', ' ')}", "pct")
        elif query == "agent_tasks" and parsed.values("task_status") in (("failed",), ("succeeded",)):
            params.pop("statuses", None)
            metric = metrics["failure_pct" if parsed.values("task_status") == ("failed",) else "success_pct"]
            column = metric.column
            parsed = _without(parsed, "task_status")
        else:
            raise Unanswerable("a share of these is not among the vetted queries; ask for a count or a rate")
    else:
        metric = metrics.get(column) or Metric(column, column.replace("_", " "), "number")
    noun = metrics[count_column].label
    if parsed.dimension is not None or parsed.direction is not None or parsed.polarity is not None:
        if parsed.dimension not in dimensions:
            raise Unanswerable(f"{noun.lower()} cannot be grouped by {str(parsed.dimension).replace('_', ' ')}")
        direction = _direction(parsed, metric)
        params["by"] = dimensions[parsed.dimension]
        extreme = ("the most" if direction == "most" else "the fewest") if metric.counts and metric.kind == "count" \
            else ("the highest" if direction == "most" else "the lowest")
        what = _lower_first(metric.label)
        interpretation = _general_interpretation(parsed, f"{DIMENSION_NOUNS[parsed.dimension]} with {extreme} {what}",
                                                 period, sets)
        return QueryChoice(query, params, period, f"{'top' if direction == 'most' else 'bottom'}:{column}:label",
                           interpretation=interpretation, kind="label", detail=f"rank:{column}:{metric.kind}:1.0")
    interpretation = _general_interpretation(parsed, metric.label, period, sets)
    return QueryChoice(query, params, period, f"first:{column}", interpretation=interpretation, kind=metric.kind,
                       detail=column, zero_when_missing=metric.counts)


def _general_interpretation(parsed: Parsed, label: str, period: Period, sets: dict[str, Any]) -> str:
    phrases = [_phrase(f) for f in parsed.filters]
    return f"{label}{' ' + ', '.join(phrases) if phrases else ''}, {period.label}"


def _plan_rules(parsed: Parsed) -> QueryChoice:
    categories = parsed.values("category")
    if parsed.period is not None:
        raise Unanswerable("the category rules are versioned, not dated by period; ask when a version was written")
    active = 1 if parsed.has("active") or parsed.metric == "written_on" else 0
    params = {"categories": bits(categories, q.CATEGORIES), "active": active}
    where = f" for {' or '.join(c.replace('_', ' ') for c in categories)}" if categories else ""
    if parsed.metric == "written_on":
        if len(categories) != 1:
            raise Unanswerable("name one category to say when its rules in force were written")
        return QueryChoice("category_rules", params, None, "first:written_on",
                           interpretation=f"Day the category rules in force{where} were written", kind="date",
                           detail="rules")
    if parsed.metric == "revisions":
        params["active"] = 0
        return QueryChoice("category_rules", params, None, "count-1:version",
                           interpretation=f"Changes to the category rules{where} (versions after the first)",
                           detail="rules", zero_when_missing=True)
    if parsed.metric == "versions":
        params["active"] = 0
        return QueryChoice("category_rules", params, None, "count:version",
                           interpretation=f"Versions of the category rules{where}", detail="rules",
                           zero_when_missing=True)
    raise Unanswerable("about the category rules I can say when the version in force was written and how many "
                       "versions there were")


def _plan_messages(parsed: Parsed, now: datetime) -> QueryChoice:
    period = _period(parsed, now)
    params: dict[str, Any] = _span(period) | {"by": 0}
    for f in parsed.filters:
        if f.slot not in ("category", "channel"):
            raise Unanswerable(f"messages cannot be filtered by {f.slot.replace('_', ' ')}")
        name, order = TICKET_SETS[f.slot]
        params[name] = bits(f.values, order)
    if parsed.dimension or parsed.direction or parsed.share or parsed.thresholds:
        raise Unanswerable("message counts are given in total or per ticket, not ranked or as shares")
    who = parsed.metric if parsed.metric in ("customer", "ai", "human") else None
    if parsed.aggregate == "median":
        raise Unanswerable("messages per ticket are averaged; there is no median among the vetted queries")
    if parsed.aggregate == "avg":
        if who not in (None, "customer"):
            raise Unanswerable("the average per ticket is kept for all messages and the customer's")
        column = "avg_customer_messages" if who else "avg_messages"
        label = f"Average {'customer ' if who else ''}messages per ticket"
        kind = "number"
    else:
        column = f"{who}_messages" if who else "messages"
        sender = {"customer": " from the customer", "ai": " from the AI", "human": " from humans"}
        label = f"Messages{sender.get(who or '', '')}"
        kind = "count"
    phrases = [_phrase(f) for f in parsed.filters]
    return QueryChoice("conversation_messages", params, period, f"first:{column}",
                       interpretation=f"{label}{' of tickets ' + ', '.join(phrases) if phrases else ''}, "
                                      f"{period.label}",
                       kind=kind, detail=column, zero_when_missing=kind == "count")


# --- the interpretation line -------------------------------------------------------------------------------------

def _noun(parsed: Parsed) -> str:
    """'tickets in category damaged item with urgency critical'."""
    phrases = [_phrase(f) for f in parsed.filters]
    phrases += [_threshold_phrase(name, minutes) for name, minutes in parsed.thresholds.items()]
    return "tickets" + (" " + ", ".join(phrases) if phrases else "")


def _interpretation(parsed: Parsed, label: str, period: Period | None, skip: set[str] | None = None,
                    filters_first: bool = True) -> str:
    phrases = [_phrase(f) for f in parsed.filters if not skip or f.slot not in skip]
    phrases += [_threshold_phrase(name, minutes) for name, minutes in parsed.thresholds.items()]
    scope = ""
    if phrases:
        joined = ", ".join(phrases)
        scope = f" {joined}" if label.startswith(("Tickets", "Stuck tickets")) else f", tickets {joined}"
        if not filters_first:
            scope = f", among tickets {joined}"
    when = f", {period.label}" if period is not None else ""
    return f"{label}{scope}{when}"


def _phrase(f: Filter) -> str:
    def either(values: tuple[str, ...]) -> str:
        shown = [v.replace("_", " ") for v in values]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]

    no = "not " if f.negated else ""
    if f.slot == "category":
        return f"{no}in category {either(f.values)}"
    if f.slot == "secondary":
        return "with the other of them as second topic" if len(f.values) == 2 else \
            f"with second topic {either(f.values)}"
    if f.slot == "channel":
        return f"{no}on {either(f.values)}"
    if f.slot == "urgency":
        return f"with urgency {no}{either(f.values)}"
    if f.slot == "language":
        names = {code: name.capitalize() for name, code in q.LANGUAGE_WORDS.items()}
        return f"{no}in " + " or ".join(f"{names.get(v, v)} ({v})" for v in f.values)
    if f.slot == "status":
        if set(f.values) == {"new", "ai_answered", "draft_created", "sent", "escalated"}:
            return "still open (not closed)"
        return f"with status {no}{either(f.values)}"
    if f.slot == "handled":
        words = {"ai": "handled by AI alone", "ai_edited": "where a human edited the AI draft",
                 "human": "answered by a human", "unanswered": "not answered yet"}
        if set(f.values) == {"ai", "ai_edited", "human"}:
            return "answered"
        return " or ".join(words[v] for v in f.values)
    if f.slot == "weekday":
        return f"arriving on {either(f.values)} (UTC)"
    if f.slot == "model":
        if f.values == ("none",):
            return "with no AI model"
        return f"answered by {MODEL_NAMES.get(f.values, either(f.values))} model"
    if f.slot == "rating":
        values = sorted(f.values)
        return f"rated {values[0]}" if len(values) == 1 else f"rated {values[0]}-{values[-1]}"
    if f.slot == "rated":
        return "rated by the customer" if f.values == ("yes",) else "not rated"
    if f.slot == "ai_answer":
        return "with an AI answer" if f.values == ("yes",) else "that never got an AI answer"
    if f.slot == "customer":
        return "from identified customers" if f.values == ("known",) else "from unknown senders"
    if f.slot == "task_type":
        return f"of type {either(f.values)}"
    if f.slot == "task_status":
        return f"that {'are ' if f.values[0] in ('pending', 'running') else ''}{either(f.values)}"
    if f.slot == "error":
        return f"failing with {either(f.values)}"
    if f.slot == "verdict":
        return f"judged {either(f.values)}"
    if f.slot == "active":
        return "in force"
    return f"{f.slot} {either(f.values)}"


def _threshold_phrase(name: str, minutes: int) -> str:
    amount = f"{minutes // 1440} days" if minutes % 1440 == 0 else f"{minutes // 60} hours" if minutes % 60 == 0 \
        else f"{minutes} minutes"
    return {"resolved_over_minutes": f"resolved after more than {amount}",
            "resolved_within_minutes": f"resolved within {amount}",
            "response_over_minutes": f"first answered after more than {amount}",
            "response_within_minutes": f"first answered within {amount}"}[name]
