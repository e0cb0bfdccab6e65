"""`levhaolam serve console`: a small read-only page for staff (Starlette, plain HTML, no JavaScript).

- `/`: the last conversations (latest turn of each: category, decision and why, actions, cost, latency, a link to
  the trace), the latest experiment's headline, and the last rule promotions;
- `/experiments/latest`, `/experiments/{run_key}`: an experiment's HTML report (as `levhaolam eval report` saved it);
- `/healthz`.

It shows no message text (the page has no login: it listens on loopback unless told otherwise), and every query
runs in a READ ONLY transaction, so the page cannot change anything even by mistake.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from schemas.settings import Settings
from store.database import database_url, open_pool
from telemetry import trace_url
from telemetry.exporting import DEFAULT_LANGFUSE_HOST

CONSOLE_PORT = 8110
EVAL_PREFIX = "eval:"
LAST_CONVERSATIONS = 50

LATEST_TURNS = """
SELECT DISTINCT ON (c.id) c.external_id, c.channel, c.status, t.created_at, t.primary_category, t.secondary_category,
       t.decision, t.reasons, t.model, t.cost_usd, t.latency_ms, t.trace_id,
       coalesce(t.response -> 'actions_taken', '[]'::jsonb) AS actions,
       (SELECT count(*) FROM turns x WHERE x.conversation_id = c.id) AS turns
FROM conversations c JOIN turns t ON t.conversation_id = c.id
WHERE (%(evals)s OR c.external_id IS NULL OR c.external_id NOT LIKE 'eval:%%')
ORDER BY c.id, t.created_at DESC, t.id DESC
"""
LATEST_RUN = """
SELECT run_key, dataset, status, started_at, created_by, summary, configs, report_html IS NOT NULL AS has_report
FROM eval_runs ORDER BY started_at DESC, id DESC LIMIT 1
"""
PROMOTIONS = """
SELECT category, from_version, to_version, promoted_by, reason, promoted_at,
       (SELECT run_key FROM eval_runs r WHERE r.id = p.eval_run_id) AS run_key
FROM rule_promotions p ORDER BY promoted_at DESC LIMIT 10
"""

STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;
margin-top:28px}table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}.escalate{color:#b3261e;font-weight:600}
.draft{color:#8a5a00}.auto_send{color:#1e6b32}.meta{color:#666}code{background:#f4f4f4;padding:1px 4px}"""


def trace_template(settings: Settings) -> str | None:
    """Where a trace id links to: the configured template, else Langfuse's own trace page when it is configured."""
    if settings.trace_url_template:
        return settings.trace_url_template
    if settings.langfuse_public_key is not None:
        return f"{(settings.langfuse_host or DEFAULT_LANGFUSE_HOST).rstrip('/')}/trace/{{trace_id}}"
    return None


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else ""


def _percent(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def conversations_table(rows: list[dict[str, Any]], template: str | None) -> str:
    if not rows:
        return "<p id=\"no-conversations\">No conversations yet.</p>"
    body = []
    for row in rows:
        actions = ", ".join(str(a.get("tool")) for a in row["actions"]) or "–"
        link = trace_url(template, row["trace_id"])
        trace = (f"<a href=\"{_e(link)}\">{_e(row['trace_id'][:12])}…</a>" if link else
                 f"<code>{_e((row['trace_id'] or '')[:12])}</code>")
        category = _e(row["primary_category"]) + (f" + {_e(row['secondary_category'])}" if row["secondary_category"]
                                                  else "")
        body.append(
            f"<tr><td>{_when(row['created_at'])}</td><td><code>{_e(row['external_id'])}</code></td>"
            f"<td>{_e(row['channel'])}</td><td class=\"num\">{row['turns']}</td><td>{category}</td>"
            f"<td class=\"{_e(row['decision'])}\">{_e(row['decision'])}</td>"
            f"<td>{_e(', '.join(row['reasons'] or []))}</td><td>{_e(actions)}</td><td>{_e(row['model'] or 'offline')}"
            f"</td><td class=\"num\">{float(row['cost_usd'] or 0):.4f}</td>"
            f"<td class=\"num\">{_e(row['latency_ms'])}</td><td>{trace}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("last turn", "conversation", "channel", "turns", "category", "decision",
                                               "reasons", "actions", "model", "cost $", "latency ms", "trace"))
    return f"<table id=\"conversations\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def experiment_section(run: dict[str, Any] | None) -> str:
    if run is None:
        return "<p id=\"no-experiment\">No experiment yet: <code>levhaolam eval run</code>.</p>"
    summary = run["summary"] or {}
    rows = []
    for name, cell in (summary.get("overall") or {}).items():
        decisions = cell.get("decisions") or {}
        auto = decisions.get("auto_send", 0) / cell["n"] if cell.get("n") else None
        scores = cell.get("scores") or {}
        rows.append(f"<tr><th>{_e(name)}</th><td class=\"num\">{cell.get('n')}</td>"
                    f"<td class=\"num\">{_percent(cell.get('quality'))}</td>"
                    f"<td class=\"num\">{_percent(scores.get('category'))}</td>"
                    f"<td class=\"num\">{_percent(scores.get('actions'))}</td>"
                    f"<td class=\"num\">{_percent(auto)}</td>"
                    f"<td class=\"num\">{float(cell.get('cost_per_ticket_usd') or 0):.4f}</td>"
                    f"<td class=\"num\">{_e(cell.get('latency_p50_ms'))}</td></tr>")
    table = ("<table id=\"experiment\"><thead><tr><th>config</th><th>tickets</th><th>quality</th><th>category</th>"
             "<th>actions</th><th>auto-send</th><th>$/ticket</th><th>p50 ms</th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>") if rows else (
        "<p>Not reported yet: <code>levhaolam eval report --run " + _e(run["run_key"]) + "</code>.</p>")
    report = (f" · <a id=\"report-link\" href=\"/experiments/{_e(run['run_key'])}\">full report</a>"
              if run["has_report"] else "")
    return (f"<p class=\"meta\">Run <code>{_e(run['run_key'])}</code> on {_e(run['dataset'])}, {_e(run['status'])}, "
            f"{_when(run['started_at'])} by {_e(run['created_by'])}{report}</p>{table}")


def promotions_section(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p id=\"no-promotions\">No rule promotions yet.</p>"
    items = "".join(
        f"<li>{_when(r['promoted_at'])}: <b>{_e(r['category'])}</b> v{_e(r['from_version'])} → v{_e(r['to_version'])}"
        f" by {_e(r['promoted_by'])}: {_e(r['reason'])}{' (run ' + _e(r['run_key']) + ')' if r['run_key'] else ''}"
        f"</li>" for r in rows)
    return f"<ul id=\"promotions\">{items}</ul>"


def page(conversations: str, experiment: str, promotions: str, include_evals: bool) -> str:
    toggle = ("<a href=\"/\">hide experiment conversations</a>" if include_evals
              else "<a href=\"/?evals=1\">show experiment conversations too</a>")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lev Haolam support console</title>
<meta http-equiv="refresh" content="60"><style>{STYLE}</style></head><body>
<h1>Lev Haolam support console</h1>
<p class="meta">Read-only. The latest turn of the last {LAST_CONVERSATIONS} conversations; {toggle}.</p>
<h2>Last conversations</h2>{conversations}
<h2>Latest experiment</h2>{experiment}
<h2>Rule promotions</h2>{promotions}
</body></html>"""


def create_app(settings: Settings, pool: AsyncConnectionPool | None = None) -> Starlette:
    """`pool`: an open pool to read from (tests); otherwise the app opens its own for its lifetime."""
    state: dict[str, AsyncConnectionPool] = {}
    template = trace_template(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if pool is not None:
            state["pool"] = pool
            yield
            return
        async with open_pool(database_url(settings), max_size=2, timeout_s=settings.db_connect_timeout_s) as opened:
            state["pool"] = opened
            yield

    async def read(query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        async with state["pool"].connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION READ ONLY")
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params or {})
            return list(await cur.fetchall())

    async def index(request: Request) -> Response:
        include_evals = request.query_params.get("evals") == "1"
        turns = await read(LATEST_TURNS, {"evals": include_evals})
        turns.sort(key=lambda row: row["created_at"], reverse=True)
        runs = await read(LATEST_RUN)
        promotions = await read(PROMOTIONS)
        return HTMLResponse(page(conversations_table(turns[:LAST_CONVERSATIONS], template),
                                 experiment_section(runs[0] if runs else None), promotions_section(promotions),
                                 include_evals))

    async def experiment(request: Request) -> Response:
        key = request.path_params["run_key"]
        query = ("SELECT report_html FROM eval_runs WHERE report_html IS NOT NULL ORDER BY started_at DESC, id DESC "
                 "LIMIT 1" if key == "latest" else "SELECT report_html FROM eval_runs WHERE run_key = %(key)s")
        rows = await read(query, {"key": key})
        if not rows or not rows[0]["report_html"]:
            return HTMLResponse("<!doctype html><p>No report for this experiment yet: run <code>levhaolam eval "
                                "report</code>.</p><p><a href=\"/\">back</a></p>", status_code=404)
        return HTMLResponse(rows[0]["report_html"])

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok" if "pool" in state else "starting"})

    return Starlette(routes=[Route("/", index), Route("/experiments/{run_key}", experiment),
                             Route("/healthz", healthz)], lifespan=lifespan)


async def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    await uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="info")).serve()
