"""`levhaolam eval export`: past tickets from `support_threads_data` as a dataset. Each item is the customer's
first message, the category it was filed under, the action a good first answer proposes (with the arguments the
message states), the language, and the best human answer as the reference."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from evals.models import DatasetItem, Expected
from orchestrator.router_offline import detect_language
from schemas.categories import Category

# The one action a first answer proposes in each category (what the policy lets the AI ask to confirm).
ACTION_OF: dict[Category, str] = {
    Category.PAUSE_SUBSCRIPTION: "pause_subscription",
    Category.SKIP_MONTH: "skip_month",
    Category.CHANGE_FREQUENCY: "change_frequency",
    Category.CHANGE_ADDRESS: "change_address",
    Category.DAMAGED_ITEM: "create_damage_claim",
}
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "1": 1, "2": 2, "3": 3}
# Written independently of the orchestrator's lexicon on purpose: a judge must not share the code it judges.
_MONTHS = re.compile(r"\bfor (a|one|two|three|[123]) months?\b", re.IGNORECASE)
_FREQUENCIES = ((re.compile(r"\bevery (two|2|other) months?\b|\bbimonthly\b", re.IGNORECASE), "bimonthly"),
                (re.compile(r"\bquarterly\b|\bevery (three|3) months\b", re.IGNORECASE), "quarterly"),
                (re.compile(r"\b(back to|switch to|go to) monthly\b", re.IGNORECASE), "monthly"))

SELECT_TICKETS = """
SELECT t.thread_id, t.category, t.language, t.channel, t.customer_id, t.customer_email, t.rating, t.handled_by,
       t.human_answer, t.human_approved, t.created_at,
       (SELECT d.body FROM support_dialogs d WHERE d.ticket_id = t.id AND d.role = 'customer' ORDER BY d.seq
        LIMIT 1) AS first_message,
       EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = t.customer_id
               AND s.status IN ('active', 'paused', 'past_due')) AS has_subscription
FROM support_threads_data t
WHERE t.category = %(category)s AND t.human_answer IS NOT NULL AND t.human_approved
ORDER BY t.rating DESC NULLS LAST, (t.handled_by = 'human') DESC, t.created_at DESC, t.id
LIMIT %(limit)s
"""


def expected_arguments(category: Category, message: str) -> dict[str, Any]:
    if category is Category.PAUSE_SUBSCRIPTION:
        found = _MONTHS.search(message)
        return {"months": _NUMBERS[found.group(1).lower()]} if found else {}
    if category is Category.CHANGE_FREQUENCY:
        for pattern, frequency in _FREQUENCIES:
            if pattern.search(message):
                return {"frequency": frequency}
    return {}


def item_from(row: dict[str, Any]) -> DatasetItem | None:
    message = (row["first_message"] or "").strip()
    if not message:
        return None
    category = Category(row["category"])
    action = ACTION_OF.get(category)
    # Only an identified customer with something to change can be offered the action.
    actions = [action] if action and row["customer_id"] is not None and (
        row["has_subscription"] or category is Category.DAMAGED_ITEM) else []
    return DatasetItem(
        id=row["thread_id"], messages=[message], channel=row["channel"], customer_email=row["customer_email"],
        customer_id=row["customer_id"],
        expected=Expected(category=category, actions=actions,
                          arguments=expected_arguments(category, message) if actions else {},
                          # The customer's language is the one they wrote in (the profile's may differ).
                          language=detect_language(message)),
        reference=row["human_answer"],
        metadata={"rating": row["rating"], "handled_by": row["handled_by"],
                  "created_at": row["created_at"].isoformat()})


async def export_items(conn: psycopg.AsyncConnection, per_category: int,
                       categories: Iterable[Category] = tuple(Category),
                       progress: Callable[[int], None] = lambda _: None) -> list[DatasetItem]:
    """Up to `per_category` tickets of each category, best rated first: a balanced set, the same every time."""
    items: list[DatasetItem] = []
    cur = conn.cursor(row_factory=dict_row)
    for category in categories:
        await cur.execute(SELECT_TICKETS, {"category": category.value, "limit": per_category})
        for row in await cur.fetchall():
            item = item_from(row)
            if item is not None:
                items.append(item)
        progress(1)
    return items


def write_jsonl(items: Iterable[DatasetItem], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(item.model_dump_json() + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> list[DatasetItem]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(DatasetItem.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not a dataset item ({str(exc).splitlines()[0]})") from None
    return items
