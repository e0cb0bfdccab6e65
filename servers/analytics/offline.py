"""Answering common questions without a model: map the question to a vetted query and its parameters.

Rules run in order and the first that matches decides. A question no rule understands, or one with
a period or a filter we cannot express (a year, a quarter, 'about X'), is refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.categories import Category

MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"), start=1)}
MONTHS |= {name[:3]: number for name, number in list(MONTHS.items())}

CATEGORY_WORDS: list[tuple[str, Category]] = [
    (r"general question", Category.GENERAL_QUESTION),
    (r"shipping|delivery|deliveries|tracking|where is my box", Category.SHIPPING_INQUIRY),
    (r"address", Category.CHANGE_ADDRESS),
    (r"frequency", Category.CHANGE_FREQUENCY),
    (r"skip", Category.SKIP_MONTH),
    (r"damage|broken", Category.DAMAGED_ITEM),
    (r"payment|billing|charge", Category.PAYMENT_ISSUE),
    (r"pause", Category.PAUSE_SUBSCRIPTION),
    (r"cancel", Category.CANCEL_SUBSCRIPTION),
    (r"\"other\"|'other'|other category|category other", Category.OTHER),
]
CHANNEL_WORDS = [
    (r"whatsapp", "whatsapp"),
    (r"e-?mail", "email"),
    (r"web ?widget|website chat|live chat", "web_widget"),
    (r"facebook|messenger", "facebook"),
    (r"telegram", "telegram"),
    (r"\bsms\b|text message", "sms"),
]
# Filters and periods the vetted queries cannot express: refuse instead of answering something else.
UNSUPPORTED = re.compile(
    r"\b(19|20)\d{2}\b|quarter|this year|last year|\babout\b|mention|contain|customers? who|"
    r"\bwhy\b|predict|forecast|next week|next month|tomorrow|per agent|which agent|country|countries|"
    r"language|refund amount|revenue"
)


# The vetted queries have no country filter: a question naming a country is refused, not answered for all.
COUNTRY = re.compile(r"\b(israel|united states|usa|america|canada|uk|united kingdom|britain|england|ireland|germany|"
                     r"france|netherlands|holland|belgium|austria|switzerland|italy|spain|portugal|sweden|norway|"
                     r"denmark|finland|poland|czech|australia|new zealand|south africa|brazil|argentina|mexico|japan|"
                     r"china|india|russia|ukraine|europe|asia|africa)\b")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str


@dataclass
class QueryChoice:
    query: str
    params: dict[str, Any]
    period: Period | None
    key: str  # how to read the key figure from the result; see server.key_figure
    filters: dict[str, str] = field(default_factory=dict)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(moment: datetime, back: int = 0) -> datetime:
    index = moment.year * 12 + moment.month - 1 - back
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def parse_period(text: str, now: datetime) -> Period | None:
    """The period a question asks about; None when it names none (the caller decides the default)."""
    today = _day(now)
    monday = today - timedelta(days=today.weekday())
    if "yesterday" in text:
        return Period(today - timedelta(days=1), today, "yesterday")
    if "today" in text:
        return Period(today, now, "today")
    if re.search(r"last week|previous week|past week", text) and "compared" not in text:
        return Period(monday - timedelta(days=7), monday, "last week")
    if "this week" in text or "so far this week" in text:
        return Period(monday, now, "this week")
    if re.search(r"last month|previous month", text):
        return Period(_month_start(now, 1), _month_start(now), "last month")
    if "this month" in text:
        return Period(_month_start(now), now, "this month")
    if match := re.search(r"(?:last|past) (\d{1,3}) days", text):
        days = int(match[1])
        return Period(now - timedelta(days=days), now, f"the last {days} days")
    if re.search(r"last 24 hours|past 24 hours|past day", text):
        return Period(now - timedelta(hours=24), now, "the last 24 hours")
    month_names = "|".join(sorted(MONTHS, key=len, reverse=True))
    if match := re.search(rf"since (?:the (?:start|beginning) of )?({month_names})\b", text):
        start = _month_named(MONTHS[match[1]], now)
        return Period(start, now, f"since {start:%B %-d}")
    if match := re.search(rf"\b(?:in|during|for|of) ({month_names})\b", text):
        start = _month_named(MONTHS[match[1]], now)
        end = _month_start(start.replace(day=28) + timedelta(days=4))
        return Period(start, min(end, now), f"{start:%B %Y}")
    return None


def _month_named(month: int, now: datetime) -> datetime:
    """The most recent start of that month: 'since June' in November is June of this year."""
    year = now.year if month <= now.month else now.year - 1
    return now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def find_category(text: str) -> Category | None:
    for pattern, category in CATEGORY_WORDS:
        if re.search(pattern, text):
            return category
    return None


def find_channel(text: str) -> str | None:
    for pattern, channel in CHANNEL_WORDS:
        if re.search(pattern, text):
            return channel
    return None


def choose(question: str, now: datetime) -> QueryChoice | None:
    """The vetted query that answers `question`, or None when it cannot be answered reliably."""
    text = " ".join(question.lower().replace("’", "'").split())
    if UNSUPPORTED.search(text) or COUNTRY.search(text):
        return None
    asked = parse_period(text, now)
    period = asked or Period(now - timedelta(days=90), now, "the last 90 days")
    span = {"start": period.start, "end": period.end}
    category, channel = find_category(text), find_channel(text)
    ai = re.search(r"\bai\b|bot|automat", text) is not None
    share = re.search(r"share|percent|%|proportion|what part|fraction", text) is not None

    if "stuck" in text or "waiting too long" in text or "unanswered" in text:
        hours = int(m[1]) if (m := re.search(r"(\d+) hours", text)) else 24
        return QueryChoice("stuck_tickets", {"now": now, "older_than_hours": hours}, None, "sum:tickets")
    if "resolution rate" in text:
        return QueryChoice("resolution_rate", span | {"category": category}, period, "first:resolution_rate_pct",
                    _filters(category))
    if "funnel" in text:
        return QueryChoice("funnel", span, period, "first:tickets")
    if re.search(r"response time|respond|how fast|how quickly|first response|reply time", text):
        who = "ai" if ai else "human" if re.search(r"human|agent|people|staff", text) else None
        if who is None:
            return None
        return QueryChoice("response_times", span, period, f"row:handled_by={who}:median_minutes")
    if re.search(r"week over week|week-over-week|compared (to|with) last week|vs\.? last week|than last week|"
                 r"change from last week", text):
        return QueryChoice(
            "week_over_week", {"now": now}, None, f"row:metric={'ai_handled' if ai else 'tickets'}:change_pct"
        )
    if re.search(r"problematic|worst|most problems|struggl|hardest", text):
        return QueryChoice("category_problems", span, period, "first:category")
    if re.search(r"rating|csat|satisf", text):
        return QueryChoice("csat", span | {"category": category}, period, "first:avg_rating", _filters(category))
    if re.search(r"cost|spend|spent|how much did", text):
        return QueryChoice("ai_cost", span, period, "sum:cost_usd")
    if re.search(r"task", text) and re.search(r"fail|error", text):
        return QueryChoice("agent_task_failures", span, period, "sum:failed")
    if re.search(r"ai vs|ai versus|versus human|vs human|ai or human|who answered|human vs", text):
        return QueryChoice("ai_vs_human", span, period, "row:handled_by=ai:share_pct")
    if ai and re.search(r"handle|alone|auto|resolv|answer", text):
        return QueryChoice("ai_handled_count", span | {"category": category}, period,
                    "first:ai_share_pct" if share else "first:ai_handled", _filters(category))
    if re.search(r"per day|daily|each day|by day|busiest day", text):
        return QueryChoice("daily_volume", span, period, "max:tickets:day" if "busiest" in text else "avg:tickets")
    if re.search(r"by channel|per channel|which channel|top channel|most used channel|channels", text):
        return QueryChoice("tickets_by_channel", span, period, "first:channel")
    if re.search(r"by category|per category|which category|top category|most common|categories", text):
        return QueryChoice("tickets_by_category", span, period, "first:category")
    if re.search(r"how many|number of|ticket volume|count of", text) and "ticket" in text or \
            re.search(r"how many (requests|messages|conversations)", text):
        return QueryChoice("ticket_count", span | {"category": category, "channel": channel}, period, "first:tickets",
                    _filters(category) | ({"channel": channel} if channel else {}))
    return None


def _filters(category: Category | None) -> dict[str, str]:
    return {"category": category.value} if category else {}
