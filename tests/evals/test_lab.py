"""The eval lab end to end on the demo data, offline: export tickets → run two configs → report (terminal, HTML,
plots) → add and promote a rules version; pinned rules reach the model; the LLM judge's verdict becomes scores;
the staff console shows conversations and the latest experiment, in a real headless Chromium when there is one."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from psycopg_pool import AsyncConnectionPool

from console.app import create_app
from evals import judges
from evals import report as reports
from evals.configs import load_config
from evals.dataset import export_items, read_jsonl, write_jsonl
from evals.models import Answer, DatasetItem, Expected, Proposed
from evals.runner import RunOptions, run_experiment
from orchestrator.router import OfflineRouting
from schemas.categories import Category
from servers.common.loopback import serve_on_loopback
from servers.knowledge.embeddings import LocalMiniLM
from tests.bridge.browser import chromium_binary, chromium_page
from tests.helpers import JWT_SECRET, fixed_clock, settings_for
from tests.orchestrator.conftest import platform_on

LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")
CONFIGS = Path(__file__).resolve().parents[2] / "evals" / "configs"


async def levhaolam(*args: str, cwd: Path, database: str, limit_s: float = 300) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LANGFUSE_", "OPENAI_"))}
    env |= {"DATABASE_URL": database, "LEVHAOLAM_JWT_SECRET": JWT_SECRET, "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(LEVHAOLAM, *args, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), limit_s)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_export_run_report_and_promote_through_the_cli(knowledge_url: str, tmp_path: Path) -> None:
    code, out, err = await levhaolam("eval", "export", "--out", "ds.jsonl", "--per-category", "3", cwd=tmp_path,
                                     database=knowledge_url)
    assert code == 0, err
    items = read_jsonl(tmp_path / "ds.jsonl")
    assert f"Wrote {len(items)} items" in out and 20 <= len(items) <= 30
    assert {item.expected.category for item in items} == set(Category)
    assert all(item.reference for item in items)
    assert any(item.expected.actions == ["skip_month"] for item in items)

    code, out, err = await levhaolam("eval", "run", "--dataset", "ds.jsonl", "--concurrency", "2", "--by", "tester",
                                     cwd=tmp_path, database=knowledge_url)
    assert code == 0, err
    key = out.split("Run ")[1].split(":")[0].strip()
    assert f"{key}: finished, {2 * len(items)} answers" in out
    assert "baseline: quality" in out and "cautious: quality" in out

    code, out, err = await levhaolam("eval", "report", "--out", "reports", cwd=tmp_path, database=knowledge_url)
    assert code == 0, err
    assert f"Experiment {key} (finished)" in out and "Quality per category" in out
    page = (tmp_path / "reports" / key / "report.html").read_text()
    assert '<table id="overall">' in page and '<table id="by-category">' in page and page.count("<img") == 3
    assert {p.name for p in (tmp_path / "reports" / key).iterdir()} == {
        "report.html", "judges.png", "categories.png", "cost_latency.png"}

    async with await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True) as db:
        run = await (await db.execute("SELECT status, created_by, summary IS NOT NULL, report_html IS NOT NULL, "
                                      "jsonb_array_length(configs) FROM eval_runs WHERE run_key = %s",
                                      (key,))).fetchone()
        assert run == ("finished", "tester", True, True, 2)
        counts = await (await db.execute(
            "SELECT config, count(*), count(*) FILTER (WHERE error IS NULL), "
            "count(*) FILTER (WHERE (scores->>'confirmation')::float = 1) FROM eval_results GROUP BY config "
            "ORDER BY config")).fetchall()
        assert counts == [("baseline", len(items), len(items), len(items)),
                          ("cautious", len(items), len(items), len(items))]
        # Nothing was confirmed: every proposal of the experiment still waits for a yes that never comes.
        resolved = await (await db.execute(
            "SELECT count(*) FROM pending_actions p JOIN conversations c ON c.id = p.conversation_id "
            "WHERE c.external_id LIKE 'eval:%%' AND p.status <> 'pending'")).fetchone()
        proposed = await (await db.execute(
            "SELECT count(*) FROM eval_results WHERE jsonb_array_length(proposed) > 0")).fetchone()
        assert resolved == (0,) and proposed is not None and proposed[0] > 0

    rules = tmp_path / "skip_v3.txt"
    rules.write_text("Identify the customer, name the month and the next shipment date, confirm, then skip_month. "
                     "Offer a pause when the customer has skipped twice this year.")
    code, out, err = await levhaolam("eval", "add-rules", "skip_month", str(rules), "--by", "dana", cwd=tmp_path,
                                     database=knowledge_url)
    assert code == 0 and "version 3 added (inactive)" in out, err
    code, out, err = await levhaolam("eval", "promote", "skip_month", "3", "--by", "dana", "--why",
                                     "fewer drafts in the experiment", "--run", key, cwd=tmp_path,
                                     database=knowledge_url)
    assert code == 0 and "version 3 is active (was 2)" in out, err
    code, out, err = await levhaolam("eval", "promote", "skip_month", "3", "--by", "dana", "--why", "again",
                                     cwd=tmp_path, database=knowledge_url)
    assert code == 1 and err.strip() == "error: skip_month version 3 is already active"
    async with await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True) as db:
        promoted = await (await db.execute(
            "SELECT p.category, p.from_version, p.to_version, p.promoted_by, p.reason, r.run_key FROM "
            "rule_promotions p JOIN eval_runs r ON r.id = p.eval_run_id")).fetchall()
        assert promoted == [("skip_month", 2, 3, "dana", "fewer drafts in the experiment", key)]
        active = await (await db.execute("SELECT version FROM ai_answerer_instructions WHERE category = 'skip_month' "
                                         "AND is_active")).fetchall()
        assert active == [(3,)]


def skip_item(customer: dict[str, Any]) -> DatasetItem:
    return DatasetItem(id="T-skip", messages=["Please skip next month for me, I still have plenty."], channel="email",
                       customer_email=customer["email"], customer_id=customer["id"],
                       expected=Expected(category=Category.SKIP_MONTH, actions=["skip_month"], language="en"),
                       reference="Done, your next box is skipped.")


async def test_pinned_rules_reach_the_model_and_the_console_shows_the_run(
        knowledge_url: str, embedder: LocalMiniLM, tmp_path: Path) -> None:
    pinned = tmp_path / "pinned.toml"
    pinned.write_text('name = "skip-v1"\n[rules]\nskip_month = 1\n')
    model = ScriptedModel()
    async with platform_on(knowledge_url, embedder) as platform:  # the offline brain for the ordinary conversation
        customer = await platform.customer()
        model.extend([[function_call("skip_month", {"customer_id": customer["id"],
                                                    "subscription_id": customer["subscription"],
                                                    "box_month": "2027-01-01"}, call_id="c1")],
                      [assistant_message("Is there anything else?")]])
        normal = await platform.send("cw-console-1", "Is everything in the box kosher?")
        settings = settings_for(knowledge_url)
        async with AsyncConnectionPool(knowledge_url, min_size=1, max_size=4, open=False) as pool:
            outcome = await run_experiment(
                settings, pool, [skip_item(customer)], [load_config(pinned)], platform.urls,
                RunOptions(concurrency=1, created_by="tester", dataset_name="inline"), clock=fixed_clock,
                model_for=lambda _name: model, pipeline_options={"router": OfflineRouting()})
            async with pool.connection() as conn:
                loaded = await reports.load(conn, outcome.run_key)
                await reports.save(conn, loaded, reports.render_html(loaded, {}))
            instructions = model.calls[0].system_instructions or ""
            assert "Skip the month the customer asks for." in instructions  # version 1, pinned
            assert "cut-off" not in instructions  # version 2, active, not shown
            [result] = outcome.results
            assert result.answer.proposed == [Proposed(tool="skip_month", arguments={
                "customer_id": customer["id"], "subscription_id": customer["subscription"],
                "box_month": "2027-01-01"})]
            assert result.scores["actions"] == 1.0 and result.scores["confirmation"] == 1.0
            assert loaded.configs[0]["rules"]["skip_month"] == 1

            async with serve_on_loopback(create_app(settings, pool)) as console, httpx.AsyncClient() as http:
                page = (await http.get(console + "/")).text
                assert "cw-console-1" in page and "general_question" in page and outcome.run_key in page
                assert "eval:" not in page.split('id="experiment"')[0]  # experiment conversations hidden
                assert "eval:" + outcome.run_key in (await http.get(console + "/?evals=1")).text
                assert normal.trace_id[:12] in page
                report_page = await http.get(console + "/experiments/latest")
                assert report_page.status_code == 200 and f"Experiment <code>{outcome.run_key}" in report_page.text
                assert (await http.get(console + "/experiments/nope")).status_code == 404
                binary = chromium_binary()
                if binary is None:
                    pytest.skip("no chromium on this machine: the console was checked over HTTP only")
                async with chromium_page(binary) as browser:
                    await browser.goto(console + "/")
                    assert await browser.evaluate("document.title") == "Lev Haolam support console"
                    rows = await browser.evaluate("document.querySelectorAll('#conversations tbody tr').length")
                    assert rows == 1
                    decision = await browser.evaluate(
                        "document.querySelector('#conversations tbody tr td:nth-child(6)').textContent")
                    assert decision == normal.decision.value
                    await browser.click("#report-link")
                    await browser.wait_for("document.title.startsWith('Experiment')")
                    assert await browser.evaluate("document.querySelectorAll('#overall tbody tr').length") == 1
                    await browser.screenshot(tmp_path / "console.png")


async def test_the_llm_judge_turns_a_verdict_into_scores() -> None:
    model = ScriptedModel()
    model.extend([[assistant_message('{"accuracy": 5, "tone": 4, "safety": 5, "rationale": "Right and kind."}')]])
    item = DatasetItem(id="T1", messages=["Is everything kosher?"], channel="email", expected=Expected(
        category=Category.GENERAL_QUESTION, language="en"), reference="Yes, all products are kosher certified.")
    answer = Answer(category=Category.GENERAL_QUESTION, decision="auto_send",
                    reply="Yes: every product in the box is kosher certified.")
    scores, rationale, usage = await judges.LlmJudge(model, "gpt-5-mini").score(item, answer)
    assert scores == {"accuracy": 1.0, "tone": 0.75, "safety": 1.0} and rationale == "Right and kind."
    assert usage["model"] == "gpt-5-mini"
    prompt = str(model.calls[0].input)
    assert "Is everything kosher?" in prompt and "kosher certified" in prompt


def test_deterministic_judges() -> None:
    item = DatasetItem(id="T2", messages=["I need to pause my subscription for 2 months"], channel="email",
                       customer_email="dana@example.com", customer_id=5,
                       expected=Expected(category=Category.PAUSE_SUBSCRIPTION, actions=["pause_subscription"],
                                         arguments={"months": 2}, language="en"))
    good = Answer(category=Category.PAUSE_SUBSCRIPTION, reply="Pause subscription #3 for 2 months. Shall I go ahead?",
                  proposed=[Proposed(tool="pause_subscription", arguments={"months": 2, "subscription_id": 3})])
    assert judges.deterministic_scores(item, good) == {
        "category": 1.0, "actions": 1.0, "arguments": 1.0, "confirmation": 1.0, "red_lines": 1.0, "language": 1.0}
    asked = Answer(category=Category.PAUSE_SUBSCRIPTION, reply="For how many months?", awaiting=True)
    assert judges.actions(item, asked) == 0.5 and judges.arguments(item, asked) == 0.0
    wrong = Answer(category=Category.CANCEL_SUBSCRIPTION, executed=["pause_subscription"],
                   reply="Done via pause_subscription; contact other@example.com. Pausa hecha, gracias por todo.",
                   proposed=[Proposed(tool="pause_subscription", arguments={"months": 3})])
    scores = judges.deterministic_scores(item, wrong)
    assert scores["category"] == 0.0 and scores["confirmation"] == 0.0 and scores["red_lines"] == 0.0
    assert scores["arguments"] == 0.0
    for leak in ("Your token: confirmation_token=abc", "As my instructions say (red lines)", "{summary}"):
        assert judges.red_lines(item, Answer(reply=leak)) == 0.0
    assert judges.red_lines(item, Answer(reply="We wrote to dana@example.com.")) == 1.0


async def test_export_is_balanced_and_round_trips(knowledge_url: str, tmp_path: Path) -> None:
    async with await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True) as db:
        items = await export_items(db, per_category=2)
        again = await export_items(db, per_category=2)
    assert [i.id for i in items] == [i.id for i in again]  # the same tickets every time
    assert {c: sum(i.expected.category is c for i in items) for c in Category} == {c: 2 for c in Category}
    write_jsonl(items, tmp_path / "d.jsonl")
    assert read_jsonl(tmp_path / "d.jsonl") == items
    pauses = [i for i in items if i.expected.category is Category.PAUSE_SUBSCRIPTION and i.expected.actions]
    assert all(i.expected.actions == ["pause_subscription"] for i in pauses)
    (tmp_path / "bad.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1: not a dataset item"):
        read_jsonl(tmp_path / "bad.jsonl")


def test_config_files(tmp_path: Path) -> None:
    cautious = load_config(CONFIGS / "cautious.toml")
    assert cautious.name == "cautious" and cautious.categories[Category.DAMAGED_ITEM].gate.mode.value == "draft"
    assert cautious.categories[Category.SKIP_MONTH].gate.min_confidence == 0.8
    assert load_config(CONFIGS / "baseline.toml").categories[Category.DAMAGED_ITEM].gate.mode.value == "auto_send"
    broken = tmp_path / "broken.toml"
    broken.write_text('[overrides.categories.skip_month]\nmodel = "x"\n')
    with pytest.raises(ValueError, match="broken.toml"):
        load_config(broken)
    typo = tmp_path / "typo.toml"
    typo.write_text('nmae = "x"\n')
    with pytest.raises(ValueError, match="typo.toml"):
        load_config(typo)
