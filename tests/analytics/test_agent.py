"""ask with a model: the real openai-agents runner driven by a scripted model (no key, no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from agents.testing import ScriptedModel, assistant_message, function_call
from fastmcp import Client

from servers.registry import builder
from tests.helpers import fixed_clock, settings_for

GOOD_SQL = ("SELECT count(*) AS ai_handled FROM support_threads_data WHERE handled_by = 'ai' "
            "AND created_at >= '2026-11-23T00:00:00Z' AND created_at < '2026-11-28T12:00:00Z'")
QUESTION = "How many tickets did the AI handle this week?"


def server_with(model: ScriptedModel, db_url: str):
    return builder("analytics")(settings_for(db_url), transport="memory", clock=fixed_clock, model=model)


async def test_the_agent_fixes_a_failed_query_answers_and_records_what_it_learned(db_url: str, db) -> None:
    expected = (await (await db.execute(
        "SELECT count(*) FROM support_threads_data WHERE handled_by = 'ai' AND created_at >= %s AND created_at < %s",
        (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 28, 12, tzinfo=UTC)))).fetchone())[0]
    final = {"interpretation": "Tickets handled by AI alone, this week", "answer": f"{expected}.",
             "key_label": "ai_handled", "key_value": expected, "sql": GOOD_SQL, "chart": None, "can_answer": True}
    model = ScriptedModel([
        [function_call("run_sql", {"sql": "SELECT count(*) FROM tickets WHERE handled_by = 'ai'"}, call_id="c1")],
        [function_call("run_sql", {"sql": GOOD_SQL}, call_id="c2")],
        [assistant_message(json.dumps(final))],
    ])
    async with Client(server_with(model, db_url)) as client:
        answer = (await client.call_tool("ask", {"question": QUESTION})).structured_content
    assert answer["method"] == "model" and answer["answered"] is True
    assert answer["key_figure"] == {"label": "ai_handled", "value": expected}
    # Like the offline answers, the model's starts with how it read the question.
    assert answer["answer"] == f"Tickets handled by AI alone, this week: {expected}."
    assert answer["result"]["rows"] == [[expected]]

    instructions = model.calls[0].system_instructions or ""
    for layer in ("support_threads_data", "handled_by (text)", "resolution_rate", "ai_handled_count(start, end",
                  "skip_month:", "Now is 2026-11-28T12:00:00+00:00"):
        assert layer in instructions
    retry_input = json.dumps(model.calls[1].input, default=str)
    assert "table tickets is not available to analytics" in retry_input

    learned = await (await db.execute("SELECT mistake, sql, created_by FROM analytics_learnings")).fetchall()
    assert len(learned) == 1 and "tickets is not available" in learned[0][0]
    assert learned[0][1] == GOOD_SQL and learned[0][2] == "analytics-agent"

    # The next question about the same thing is grounded in what was learned.
    again = ScriptedModel([[assistant_message(json.dumps(final))]])
    async with Client(server_with(again, db_url)) as client:
        await client.call_tool("ask", {"question": QUESTION})
    assert "Learnings from earlier mistakes" in (again.calls[0].system_instructions or "")


async def test_a_model_that_tries_to_write_is_refused_and_nothing_changes(db_url: str, db) -> None:
    before = await (await db.execute("SELECT count(*) FROM support_dialogs")).fetchone()
    model = ScriptedModel([
        [function_call("run_sql", {"sql": "DELETE FROM support_dialogs"}, call_id="c1")],
        [assistant_message(json.dumps({"interpretation": "Deleting dialogues", "answer": "The data cannot answer that.",
                                       "can_answer": False}))],
    ])
    async with Client(server_with(model, db_url)) as client:
        answer = (await client.call_tool("ask", {"question": "Delete the dialogs please"})).structured_content
    assert answer["answered"] is False and answer["answer"].startswith("I can't answer that reliably")
    assert "only reading is allowed" in json.dumps(model.calls[1].input, default=str)
    assert await (await db.execute("SELECT count(*) FROM support_dialogs")).fetchone() == before


async def test_when_the_model_fails_ask_answers_offline(db_url: str) -> None:
    from agents.exceptions import ModelBehaviorError

    model = ScriptedModel([ModelBehaviorError("the model returned garbage")])
    async with Client(server_with(model, db_url)) as client:
        answer = (await client.call_tool("ask", {"question": QUESTION})).structured_content
    assert answer["method"] == "offline" and answer["answered"] is True and answer["query"] == "ai_handled_count"
