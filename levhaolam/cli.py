"""`levhaolam`: run the platform, manage its database, seed demo data, check the setup.

Every failure a person can cause or fix (a bad setting, an unreachable database, a refused seed)
ends as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import warnings
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import psycopg
import typer
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evals.cli import eval_app
from levhaolam.categories_commands import categories_app
from levhaolam.one_line_errors import one_line_errors
from schemas.categories import parse_category
from schemas.services import (
    BRIDGE_PORT,
    DEFAULT_HOST,
    DEFAULT_PORTS,
    MCP_PATH,
    ORCHESTRATOR_PORT,
    TURNS_PATH,
    McpServer,
)
from schemas.settings import Settings
from schemas.turns import MAX_TEXT
from store import summary
from store.database import check_reachable, database_url, open_pool
from store.demo.generator import Batch, SeedConfig
from store.demo.loader import SeedReport, existing_data, seed
from store.migrate import migrate, status
from store.rollups import rebuild_rollups

if TYPE_CHECKING:
    from orchestrator.connections import McpServerUnreachable
    from orchestrator.pipeline import Pipeline

app = typer.Typer(
    help="Lev Haolam AI support platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets (DATABASE_URL, API keys)
)
db_app = typer.Typer(help="The PostgreSQL store: migrations and checks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
knowledge_app = typer.Typer(help="The knowledge base: ingest documents and past answers.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")
bridge_app = typer.Typer(help="The Chatwoot bridge: its dead letters.", no_args_is_help=True)
app.add_typer(bridge_app, name="bridge")
app.add_typer(eval_app, name="eval")
memory_app = typer.Typer(help="What the AI remembers about a customer across conversations.", no_args_is_help=True)
app.add_typer(memory_app, name="memory")
learnings_app = typer.Typer(help="Lessons from staff corrections of AI drafts.", no_args_is_help=True)
app.add_typer(learnings_app, name="learnings")
app.add_typer(categories_app, name="categories")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class CliError(Exception):
    """A one-line error for the user."""


def _settings_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = str(first["loc"][0]).upper() if first["loc"] else "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise CliError(_settings_error(exc)) from None


# Run an async command; expected failures become one line and exit code 1.
command = one_line_errors(CliError)


async def connect(settings: Settings) -> psycopg.AsyncConnection:
    url = database_url(settings)
    await check_reachable(url, settings.db_connect_timeout_s)
    return await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=settings.db_connect_timeout_s)


async def _migrate(conn: psycopg.AsyncConnection) -> None:
    applied = await migrate(conn)
    if applied:
        out.print(f"Applied {len(applied)} migration(s): " + ", ".join(m.label for m in applied))
    else:
        out.print("Database schema is up to date.")


@db_app.command("migrate")
@command
async def db_migrate() -> None:
    """Apply pending migrations (each whole or not at all). Re-running is a no-op."""
    async with await connect(load_settings()) as conn:
        await _migrate(conn)


@db_app.command("status")
@command
async def db_status() -> None:
    """List migrations and when each was applied."""
    async with await connect(load_settings()) as conn:
        states = await status(conn)
    table = Table("migration", "applied at")
    for state in states:
        table.add_row(
            state.migration.label, state.applied_at.isoformat(timespec="seconds") if state.applied_at else "pending"
        )
    out.print(table)


@db_app.command("checksum")
@command
async def db_checksum() -> None:
    """Print a checksum of the seeded content (equal seeds and scales give equal checksums)."""
    async with await connect(load_settings()) as conn:
        out.print(await summary.content_checksum(conn))


@db_app.command("rollups")
@command
async def db_rollups() -> None:
    """Rebuild the analytics rollups and knowledge word counts from the raw tables (triggers keep them exact)."""
    async with await connect(load_settings()) as conn:
        await migrate(conn)
        started = datetime.now()
        await rebuild_rollups(conn)
        out.print(f"Rollups rebuilt in {(datetime.now() - started).total_seconds():.1f} s.")


def _parse_as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now().astimezone().replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--as-of: {value!r} is not an ISO date or date-time, e.g. 2026-11-28T12:00+00:00") from None
    return parsed if parsed.tzinfo else parsed.astimezone()


async def _seed(conn: psycopg.AsyncConnection, config: SeedConfig, force: bool) -> SeedReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        customers = progress.add_task("customers, subscriptions, orders", total=config.customers)
        tickets = progress.add_task("support tickets", total=config.tickets)

        def advance(batch: Batch) -> None:
            progress.advance(tickets if batch.phase == "support tickets" else customers, batch.units)

        return await seed(conn, config, force=force, on_batch=advance)


def _print_report(report: SeedReport) -> None:
    table = Table("table", "rows", title=f"Seeded in {report.seconds:.1f} s (seed {report.config.seed})")
    for name, count in report.rows.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


async def _print_summary(conn: psycopg.AsyncConnection) -> None:
    figures = await summary.business_summary(conn)
    size = await summary.database_size(conn)
    table = Table("", "", title="Lev Haolam at a glance", show_header=False)
    for label, value in figures.items():
        table.add_row(label, value)
    table.add_row("database size", f"{size / 2**20:,.0f} MiB")
    out.print(table)


Customers = Annotated[int, typer.Option(min=1, max=10_000_000, help="Number of customers.")]
Tickets = Annotated[int, typer.Option(min=0, max=100_000_000, help="Support tickets over the last 90 days.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same data.")]
AsOf = Annotated[str | None, typer.Option(help="The 'now' of the data (ISO date-time). Default: the current time.")]


@app.command("seed")
@command
async def seed_command(
    customers: Customers = 200,
    tickets: Tickets = 2_000,
    seed_value: SeedOpt = 42,
    as_of: AsOf = None,
    force: Annotated[bool, typer.Option("--force", help="Wipe all existing data first.")] = False,
) -> None:
    """Fill the database with deterministic, realistic demo data (refuses a non-empty database)."""
    config = SeedConfig(customers=customers, tickets=tickets, seed=seed_value, as_of=_parse_as_of(as_of))
    async with await connect(load_settings()) as conn:
        await migrate(conn)
        report = await _seed(conn, config, force)
        _print_report(report)
        out.print(f"Database size: {await summary.database_size(conn) / 2**20:,.0f} MiB")


@app.command("demo")
@command
async def demo() -> None:
    """Migrate, seed demo data if the database is empty, and print a summary."""
    settings = load_settings()
    async with await connect(settings) as conn:
        await _migrate(conn)
        if await existing_data(conn):
            out.print("Demo data already present; keeping it (`levhaolam seed --force` reseeds).")
        else:
            _print_report(await _seed(conn, SeedConfig(), force=False))
        await _print_summary(conn)


@app.command("rules")
@command
async def rules(category: Annotated[str | None, typer.Argument(help="One of the 10 categories.")] = None) -> None:
    """Show the active category rules (all categories, or one)."""
    wanted = parse_category(category).value if category else None
    async with await connect(load_settings()) as conn:
        cur = await conn.execute(
            "SELECT category, version, instructions FROM ai_answerer_instructions "
            "WHERE is_active AND (%s::text IS NULL OR category = %s) ORDER BY category",
            (wanted, wanted),
        )
        found = await cur.fetchall()
    if not found:
        raise CliError("no category rules in the database; run `levhaolam demo` or `levhaolam seed` first")
    for name, version, text in found:
        out.print(f"[bold]{name}[/] (v{version})")
        out.print(text, highlight=False)
        out.print()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command("serve")
@command
async def serve(
    name: Annotated[str, typer.Argument(help=", ".join(McpServer)
                                        + ", orchestrator, bridge, bridge-worker or console")],
    transport: Annotated[str, typer.Option(help="stdio (Claude Desktop, IDEs) or http (streamable HTTP)")] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP: address to listen on")] = DEFAULT_HOST,
    port: Annotated[int | None, typer.Option(help="HTTP: port (default per server: " + ", ".join(
        f"{server} {port}" for server, port in DEFAULT_PORTS.items()) + ")")] = None,
    chat_page: Annotated[bool, typer.Option(help="bridge: also serve the local chat page at / (anyone who reaches it "
                                                 "can talk to the orchestrator as a customer)")] = False,
) -> None:
    """Start one MCP server, the orchestrator's API, or the Chatwoot bridge or one of its workers. Over HTTP every
    call to an MCP server or the orchestrator needs a bearer token."""
    from servers.common.tokens import TokenConfigError
    from servers.registry import builder

    if name == "orchestrator":
        signal.signal(signal.SIGTERM, _exit_on_signal)
        await _serve_orchestrator(load_settings(), host, port or ORCHESTRATOR_PORT)
        return
    if name == "console":
        from console.app import CONSOLE_PORT
        from console.app import serve as serve_console

        signal.signal(signal.SIGTERM, _exit_on_signal)
        await serve_console(load_settings(), host, port or CONSOLE_PORT)
        return
    if name in ("bridge", "bridge-worker"):
        from bridge.service import BridgeConfigError
        from levhaolam.bridge_commands import serve_bridge, serve_worker

        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            if name == "bridge":
                await serve_bridge(load_settings(), host, port or BRIDGE_PORT, chat_page)
            else:
                await serve_worker(load_settings())
        except BridgeConfigError as exc:
            raise CliError(str(exc)) from None
        return
    if name not in set(McpServer):
        raise CliError(f"unknown server {name!r}; expected one of: {', '.join(McpServer)}")
    if transport not in ("stdio", "http"):
        raise CliError(f"--transport: {transport!r} is not stdio or http")
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it; with the default handler the process would die
    # without running exit hooks, leaving the embedded PostgreSQL running. Exit normally instead.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    settings = load_settings()
    async with await connect(settings) as conn:
        await migrate(conn)  # a no-op when up to date; lets a fresh staff machine start with one command
    try:
        server = builder(name)(settings, transport=transport)
    except TokenConfigError as exc:
        raise CliError(str(exc)) from None
    if transport == "stdio":
        await server.run_stdio_async(show_banner=False)
    else:
        # No access log: a line per tool call is the servers' busiest output and says less than their traces do.
        await server.run_http_async(show_banner=False, host=host, port=port or DEFAULT_PORTS[McpServer(name)],
                                     path=MCP_PATH, uvicorn_config={"access_log": False})


async def _serve_orchestrator(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    import telemetry
    from orchestrator.app import create_app

    if settings.service_token is None:
        raise CliError("the orchestrator's API needs LEVHAOLAM_SERVICE_TOKEN (32+ characters, e.g. "
                       "`openssl rand -base64 48`): its callers present it as a bearer token")
    if settings.jwt_secret is None:
        raise CliError("the orchestrator needs LEVHAOLAM_JWT_SECRET, the secret the MCP servers verify")
    async with await connect(settings) as conn:
        await migrate(conn)  # as the servers do: its own tables (turns, category overrides) exist before the first turn
    telemetry.setup(settings, "levhaolam-orchestrator")  # Langfuse / OTLP when configured
    async with contextlib.AsyncExitStack() as stack:
        # Opened here, before the port is bound, not in the app's lifespan: there uvicorn would report a start-up
        # failure (an MCP server down) as a traceback and exit code 3.
        pipeline = await _start_pipeline(stack, settings)
        app = create_app(lambda: contextlib.nullcontext(pipeline), settings.service_token.get_secret_value())
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")).serve()


async def _start_pipeline(stack: contextlib.AsyncExitStack, settings: Settings) -> Pipeline:
    from orchestrator.categories import CategoryConfigError
    from orchestrator.connections import McpServerUnreachable
    from orchestrator.service import running_pipeline

    try:
        return await stack.enter_async_context(running_pipeline(settings))
    except McpServerUnreachable as exc:
        raise _mcp_start_failure(exc) from None
    except CategoryConfigError as exc:  # e.g. categories.toml names a tool a running server does not list
        raise CliError(str(exc)) from None


def _mcp_start_failure(exc: McpServerUnreachable) -> CliError:
    """Which MCP server failed the orchestrator's start, where it was looked for, and what to do about it."""
    name, reason = exc.server.value, exc.reason.strip().rstrip(".")
    if reason.startswith("HTTP error"):  # it answered: running, but it refused (e.g. another LEVHAOLAM_JWT_SECRET)
        return CliError(f"the {name} MCP server at {exc.url} refused the orchestrator: {reason}")
    return CliError(f"cannot reach the {name} MCP server at {exc.url}: {reason[:1].lower() + reason[1:]} (start the "
                    f"servers first: levhaolam serve {name} --transport http, or levhaolam up)")


class _UnroutableLine(Exception):
    """A `levhaolam route` input line that is not a message; said in that line's error record."""


def _message_on(line: str) -> str:
    """The message an input line of `levhaolam route` carries: the line itself, or a JSON object's "text"."""
    text = line.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise _UnroutableLine("not valid JSON (a line starting with '{' is read as a JSON object)") from None
        if not isinstance(parsed, dict) or "text" not in parsed:
            raise _UnroutableLine('a JSON line needs a "text" field')
        if not isinstance(parsed["text"], str):
            raise _UnroutableLine(f'"text" must be a string, not {json.dumps(parsed["text"])[:40]}')
        text = parsed["text"].strip()
    if not text:
        raise _UnroutableLine("empty message")
    if len(text) > MAX_TEXT:  # the turn API refuses such a message; routing a cut-off part would hide that
        raise _UnroutableLine(f"the message is longer than {MAX_TEXT:,} characters ({len(text):,})")
    return text


@app.command("route")
@command
async def route() -> None:
    """Route messages read from stdin, one per line (text, or JSON with a "text" field): one RouterOutput JSON per
    line, in order. A line that is not a message (empty, invalid JSON, no string "text", longer than the turn API
    takes) gets {"error": ..., "line": N} instead, the others are still routed, and the exit code is then 1. Uses the
    model router when OPENAI_API_KEY is set, else the offline classifier."""
    from orchestrator.categories import load_categories
    from orchestrator.router import ModelRouting, OfflineRouting, Router
    from orchestrator.service import openai_model

    settings = load_settings()
    categories = load_categories()
    model = openai_model(settings, categories.router.model)
    router: Router = ModelRouting(model, categories.router) if model is not None else OfflineRouting()
    failed = number = 0
    for number, line in enumerate(sys.stdin, start=1):
        try:
            text = _message_on(line)
        except _UnroutableLine as exc:
            failed += 1
            print(json.dumps({"error": str(exc), "line": number}), flush=True)
            continue
        print((await router.route(text)).model_dump_json(), flush=True)
    if failed:
        raise CliError(f"{failed} of {number} lines could not be routed (their error records say why)")


@app.command("chat")
@command
async def chat(
    email: Annotated[str | None, typer.Option(help="Write as this customer (their e-mail), like a Chatwoot contact")]
    = None,
    api: Annotated[str | None, typer.Option(help="Talk to a running orchestrator at this URL instead of starting "
                                                 "the platform in this process")] = None,
) -> None:
    """Talk to the platform in a terminal as a customer (buttons are numbered choices)."""
    from levhaolam.chat import converse

    settings = load_settings()
    if api:
        await _chat_over_http(api, settings, email)
        return
    from levhaolam.local_platform import local_pipeline

    with out.status("Starting the platform (database, MCP servers, orchestrator)..."):
        stack = contextlib.AsyncExitStack()
        pipeline = await stack.enter_async_context(local_pipeline(settings, lambda text: out.print(text)))
    async with stack:
        await converse(pipeline.run, out, email)


CHAT_TIMEOUT_S = 60.0  # a turn with a model brain takes seconds; a minute means something is stuck


async def _chat_over_http(api: str, settings: Settings, email: str | None) -> None:
    import httpx

    from levhaolam.chat import converse
    from schemas.turns import TurnRequest, TurnResponse

    if settings.service_token is None:
        raise CliError("--api needs LEVHAOLAM_SERVICE_TOKEN, the orchestrator's service token")
    headers = {"Authorization": f"Bearer {settings.service_token.get_secret_value()}"}
    try:
        async with httpx.AsyncClient(base_url=api, headers=headers, timeout=CHAT_TIMEOUT_S) as client:
            async def over_http(request: TurnRequest) -> TurnResponse:
                reply = await client.post(TURNS_PATH, content=request.model_dump_json(exclude_none=True),
                                          headers={"Content-Type": "application/json"})
                if reply.status_code != 200:
                    said = " ".join(reply.text[:200].split())  # one line, whatever the body's layout
                    raise CliError(f"the orchestrator at {api} answered {reply.status_code}: {said}")
                try:
                    return TurnResponse.model_validate_json(reply.content)
                except ValidationError:
                    raise CliError(f"{api} did not answer with a turn; is it the orchestrator's address?") from None

            await client.get("/healthz")  # an unreachable orchestrator is said before the customer types, not after
            await converse(over_http, out, email)
    except httpx.InvalidURL as exc:
        raise CliError(f"--api: {api!r} is not a URL ({exc})") from None
    except httpx.TransportError as exc:
        raise CliError(f"cannot reach the orchestrator at {api}: {_transport_reason(exc)}") from None


def _transport_reason(exc: Exception) -> str:
    """Why an HTTP exchange failed, in a few words: a timeout's or a reset's exception often has no message."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {CHAT_TIMEOUT_S:g} s"
    message = str(exc).strip()
    return message.splitlines()[0] if message else f"the connection broke ({type(exc).__name__})"


@app.command("run")
@command
async def run(
    host: Annotated[str, typer.Option(help="Address of the chat page")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port of the chat page")] = BRIDGE_PORT,
) -> None:
    """Try the platform in a browser: the local chat page, with the database, MCP servers and orchestrator in this
    process (first run: demo data and the help center are loaded)."""
    from levhaolam.bridge_commands import run_locally

    signal.signal(signal.SIGTERM, _exit_on_signal)
    await run_locally(load_settings(), host, port, lambda text: out.print(text, highlight=False))


@bridge_app.command("dead-letters")
@command
async def bridge_dead_letters(
    replay: Annotated[list[int] | None, typer.Option(help="Queue this dead letter again (repeatable)")] = None,
    replay_all: Annotated[bool, typer.Option("--replay-all", help="Queue every dead letter again")] = False,
) -> None:
    """List the jobs the bridge gave up on, with the reason; replay them once the cause is fixed (actions already
    done in Chatwoot are not repeated)."""
    from levhaolam.bridge_commands import dead_letters

    found, replayed = await dead_letters(load_settings(), replay or [], replay_all)
    table = Table("id", "since", "conversation", "tries", "reason", title=f"{len(found)} dead letter(s)")
    for row in found:
        table.add_row(str(row.id), row.created_at.isoformat(timespec="seconds"),
                      f"{row.account_id}/{row.conversation_id}", str(row.attempts), row.last_error or "")
    out.print(table)
    if replayed:
        out.print(f"Replayed: {', '.join(map(str, replayed))}")
    missing = sorted(set(replay or []) - set(replayed))
    if missing:
        raise CliError(f"not dead letters: {', '.join(map(str, missing))}")


@app.command("up")
@command
async def up() -> None:
    """The whole platform on this machine: database (migrated, demo data and knowledge on first run), the six MCP
    servers, the orchestrator, the bridge with its chat page and one worker; Ctrl-C stops everything."""
    import os

    from levhaolam.local_platform import prepare_database
    from levhaolam.supervisor import (
        AlreadyRunning,
        Supervisor,
        banner,
        child_environment,
        levhaolam_command,
        single_instance,
    )
    from store.database import pg_data_dir

    settings = load_settings()
    try:
        with single_instance(pg_data_dir(settings).parent / "up.lock"):
            await prepare_database(settings, out.print)
            env = child_environment(dict(os.environ), database_url(settings))
            with_chatwoot = bool(settings.chatwoot_base_url and settings.chatwoot_api_token
                                 and settings.chatwoot_account_id)
            supervisor = Supervisor(levhaolam_command(), env, with_chatwoot,
                                    say=lambda line: out.print(line, highlight=False, markup=False, soft_wrap=True))
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            out.print(banner(env, with_chatwoot), highlight=False, markup=False, soft_wrap=True)
            await supervisor.run(stop)
    except AlreadyRunning as exc:
        raise CliError(str(exc)) from None


@app.command("bench")
def bench(
    quick: Annotated[bool, typer.Option(help="Shorter runs (minutes instead of tens of minutes)")] = False,
    only: Annotated[list[str] | None, typer.Option(help="Run only these benches (repeatable)")] = None,
    out_dir: Annotated[Path, typer.Option(help="Where results.json, results.png and the logs go")] = Path(
        "bench-results"),
) -> None:
    """Run every benchmark on this machine (each starts its own throwaway database) and print each figure beside its
    target; also writes results.json and a PNG plot."""
    from bench.all import run_all, table

    figures = run_all(out_dir, quick, only, out)
    out.print(table(figures))
    out.print(f"Written: {out_dir / 'results.json'}, {out_dir / 'results.png'}")
    if not figures:
        raise typer.Exit(1)


@app.command("token")
@command
async def token(
    scope: Annotated[str, typer.Option(help="A category, 'staff' or 'analytics': recorded in the audit log")],
    tools: Annotated[str, typer.Option(help="Comma-separated tool names the caller may use, or '*'")],
    subject: Annotated[str, typer.Option(help="Who the caller is, e.g. orchestrator/damaged_item")] = "staff/cli",
    customer_id: Annotated[int | None, typer.Option(help="Bind the token to one customer")] = None,
    ttl: Annotated[int, typer.Option(min=60, max=30 * 86400, help="Lifetime in seconds")] = 3600,
) -> None:
    """Mint a bearer token for the MCP servers over HTTP (needs LEVHAOLAM_JWT_SECRET)."""
    from access.tokens import mint_token

    settings = load_settings()
    if settings.jwt_secret is None:
        raise CliError("LEVHAOLAM_JWT_SECRET is not set; tokens are signed with it (32+ characters)")
    listed = [t.strip() for t in tools.split(",") if t.strip()]
    out.print(mint_token(settings.jwt_secret.get_secret_value(), subject=subject, scope=scope, tools=listed,
                         ttl_seconds=ttl, customer_id=customer_id), soft_wrap=True, highlight=False)


@app.command("ask")
@command
async def ask_command(
    question: Annotated[str, typer.Argument(help="A question about support, e.g. 'How many tickets did the AI handle "
                                                 "this week?'")],
    chart_dir: Annotated[Path, typer.Option(help="Where to save the answer's chart (PNG)")] = Path("charts"),
) -> None:
    """Answer a question about support with numbers, a table and a chart (through the analytics MCP server)."""
    import json
    import re

    from fastmcp import Client

    from servers.analytics.charts import render_png
    from servers.analytics.server import build

    settings = load_settings()
    async with await connect(settings) as conn:
        await migrate(conn)
    async with Client(build(settings)) as client:
        result = await client.call_tool("ask", {"question": question}, raise_on_error=False)
    if result.is_error:
        raise CliError(json.loads(result.content[0].text).get("message", "the question was refused"))
    answer = result.structured_content
    out.print(answer["answer"], highlight=False)
    data = answer.get("result")
    if answer["answered"] and data and data["rows"] and len(data["columns"]) > 1:
        table = Table(*data["columns"], title=answer.get("period") or None)
        for row in data["rows"][:25]:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)
    if answer.get("chart"):
        chart_dir.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:60] or "chart"
        path = chart_dir / f"{slug}.png"
        path.write_bytes(await asyncio.to_thread(render_png, answer["chart"]))
        out.print(f"Chart saved to {path}")


@contextlib.asynccontextmanager
async def _migrated_pool(settings: Settings) -> AsyncIterator[AsyncConnectionPool]:
    """A pool on the migrated database, for commands that do more than one connection's work."""
    url = database_url(settings)
    async with open_pool(url, max_size=2, timeout_s=settings.db_connect_timeout_s) as pool:  # checks reachability
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate(conn)  # each migration needs its own transaction: not a pooled connection's
        yield pool


def _knowledge_parts(settings: Settings):
    from servers.knowledge.embeddings import embedder_for
    from servers.knowledge.stores import vector_store_for

    key = settings.openai_api_key
    return vector_store_for(settings), embedder_for(key.get_secret_value() if key else None)


def _print_ingest(report, title: str) -> None:
    table = Table("source", "namespace", "status", "passages", "duplicates", title=title)
    for f in report.files:
        table.add_row(f.source, f.namespace or "-", f.status if f.status != "failed" else f"[red]failed[/]: {f.reason}",
                      str(f.chunks), str(f.duplicates))
    out.print(table)


async def _run_with_progress(label: str, job) -> object:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, description=f"{label}: {name}")

        return await job(advance)


@knowledge_app.command("ingest")
@command
async def knowledge_ingest(
    path: Annotated[Path, typer.Argument(help="A .md, .json or .csv file, or a folder of them")],
    namespace: Annotated[str | None, typer.Option(help="Put everything in this namespace (else per file)")] = None,
) -> None:
    """Chunk, embed and store documents; an unchanged file is skipped, a changed one replaces its passages."""
    from servers.knowledge.ingest import ingest_path, valid_namespace

    if namespace is not None and not valid_namespace(namespace):
        from schemas.knowledge import AREA_NAMESPACES

        raise CliError(f"--namespace: {namespace!r} is not one of {', '.join(AREA_NAMESPACES)}")
    if not path.exists():
        raise CliError(f"{path} does not exist")
    from servers.knowledge.embeddings import LocalMiniLM

    settings = load_settings()
    store, embedder = _knowledge_parts(settings)
    if isinstance(embedder, LocalMiniLM):
        embedder.load_in_background()  # while the database starts and migrates
    async with _migrated_pool(settings) as pool:
        report = await _run_with_progress("ingesting", lambda cb: ingest_path(pool, store, embedder, path, namespace,
                                                                              cb))
    _print_ingest(report, f"Ingested {path}")
    if report.failed:
        raise CliError(f"{len(report.failed)} file(s) could not be ingested (see above); the others landed")


@knowledge_app.command("import-examples")
@command
async def knowledge_import_examples(
    per_category: Annotated[int, typer.Option(min=1, max=500, help="Examples to keep per category")] = 40,
) -> None:
    """Turn the best human-approved, well-rated answers in support_threads_data into few-shot examples."""
    from servers.knowledge.ingest import import_examples

    settings = load_settings()
    store, embedder = _knowledge_parts(settings)
    async with _migrated_pool(settings) as pool:
        report = await _run_with_progress("importing", lambda cb: import_examples(pool, store, embedder,
                                                                                  per_category, cb))
    _print_ingest(report, "Few-shot examples")


@app.command("doctor")
@command
async def doctor() -> None:
    """Say what is configured and reachable (database, model keys, Pinecone, Langfuse, Chatwoot)."""
    from levhaolam.doctor import run_checks

    checks = await run_checks(load_settings())
    table = Table("component", "status", "detail")
    marks = {True: "[green]ok[/]", False: "[red]FAIL[/]", None: "[yellow]off[/]"}
    for check in checks:
        table.add_row(check.name, marks[check.ok], check.detail)
    out.print(table)
    if any(c.required and not c.ok for c in checks):
        raise typer.Exit(1)


@app.command("costs")
@command
async def costs(
    since: Annotated[str, typer.Option(help="From: 2026-11-01, 2026-11-01T08:00, 'today' or '7d'")] = "30d",
    until: Annotated[str | None, typer.Option(help="Up to (excluded); default: now")] = None,
) -> None:
    """Model cost of the AI's turns over a period: per category, per model, per conversation (prices.toml)."""
    from datetime import UTC, datetime

    from levhaolam.support_commands import CommandError, connected, cost_report, parse_moment

    now = datetime.now(UTC)
    try:
        start, end = parse_moment(since, now), parse_moment(until, now) if until else now
    except CommandError as exc:
        raise CliError(str(exc)) from None
    if start >= end:  # an empty table would read as "no cost", not as a period that is backwards
        raise CliError(f"--since ({start:%Y-%m-%d %H:%M}) must be before --until ({end:%Y-%m-%d %H:%M})")
    async with connected(load_settings()) as conn:
        report = await cost_report(conn, start, end)
    period = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    table = Table("category", "turns", "conversations", "cost (USD)", "per conversation", title=f"Cost by category, "
                  f"{period}")
    for row in report.categories:
        table.add_row(row.category, str(row.turns), str(row.conversations), f"{row.cost_usd:.4f}",
                      f"{row.per_conversation:.4f}")
    table.add_row("[bold]all[/]", str(report.turns), str(report.conversations), f"[bold]{report.cost_usd:.4f}[/]",
                  f"[bold]{report.per_conversation:.4f}[/]")
    out.print(table)
    models = Table("model", "provider", "requests", "input tokens", "cached", "output tokens", "thinking",
                   "cost (USD)", title="Cost by model")
    for model in report.models:
        models.add_row(model.model, model.provider, str(model.requests), str(model.input_tokens),
                       str(model.cached_input_tokens), str(model.output_tokens), str(model.thinking_tokens),
                       f"{model.cost_usd:.4f}")
    out.print(models if report.models else "No model was called in this period (the offline brain costs nothing).")


def _print_memories(rows: list, title: str) -> None:
    table = Table("id", "kind", "key", "what", "updated", title=title)
    for row in rows:
        table.add_row(str(row.id), row.kind, row.key or "", row.content, row.updated_at.isoformat(timespec="seconds"))
    out.print(table)


@memory_app.command("show")
@command
async def memory_show(customer: Annotated[str, typer.Argument(help="Customer id or e-mail")]) -> None:
    """Everything remembered about a customer: preferences, past problems, actions, retention offers made."""
    from levhaolam.support_commands import CommandError, connected
    from levhaolam.support_commands import memory_show as show

    async with connected(load_settings()) as conn:
        try:
            customer_id, email, rows = await show(conn, customer)
        except CommandError as exc:
            raise CliError(str(exc)) from None
    _print_memories(rows, f"Customer #{customer_id} ({email}): {len(rows)} memories")


@memory_app.command("forget")
@command
async def memory_forget(customer: Annotated[str, typer.Argument(help="Customer id or e-mail")]) -> None:
    """Delete everything remembered about a customer, and list what was deleted."""
    from levhaolam.support_commands import CommandError, connected
    from levhaolam.support_commands import memory_forget as forget

    async with connected(load_settings()) as conn:
        try:
            customer_id, email, rows = await forget(conn, customer)
        except CommandError as exc:
            raise CliError(str(exc)) from None
    if not rows:
        out.print(f"Nothing was remembered about customer #{customer_id} ({email}); nothing deleted.")
        return
    _print_memories(rows, f"Deleted {len(rows)} memories of customer #{customer_id} ({email})")
    out.print("Lessons from staff corrections are stored without personal data and are kept.")


@learnings_app.command("list")
@command
async def learnings_list(
    status: Annotated[str, typer.Option(help="pending, approved, rejected or all")] = "pending",
    category: Annotated[str | None, typer.Option(help="Only this category")] = None,
) -> None:
    """Lessons learned from staff edits of AI drafts; pending ones wait for approve or reject."""
    from levhaolam.support_commands import CommandError, connected
    from levhaolam.support_commands import learnings_list as listing

    wanted = parse_category(category).value if category else None
    async with connected(load_settings()) as conn:
        try:
            rows = await listing(conn, status, wanted)
        except CommandError as exc:
            raise CliError(str(exc)) from None
    table = Table("id", "category", "status", "changed", "by", "lesson", "why", title=f"{len(rows)} learning(s)")
    for row in rows:
        table.add_row(str(row.id), row.category, row.status + (" (auto)" if row.auto_accepted else ""),
                      f"{row.change_ratio:.0%}", row.staff, row.lesson, row.policy_note)
    out.print(table)


async def _review(learning_id: int, status: str, reviewer: str | None) -> None:
    from levhaolam.support_commands import CommandError, connected, learnings_review

    settings = load_settings()
    async with connected(settings) as conn:
        try:
            row = await learnings_review(conn, learning_id, status, reviewer or settings.staff_name)
        except CommandError as exc:
            raise CliError(str(exc)) from None
    out.print(f"Learning #{row.id} ({row.category}) is {row.status}, by {row.reviewed_by}: {row.lesson}")


@learnings_app.command("approve")
@command
async def learnings_approve(learning_id: Annotated[int, typer.Argument(help="The learning's id")],
                            by: Annotated[str | None, typer.Option(help="Reviewer (default: LEVHAOLAM_STAFF_NAME)")]
                            = None) -> None:
    """Use this lesson in the category's later conversations."""
    await _review(learning_id, "approved", by)


@learnings_app.command("reject")
@command
async def learnings_reject(learning_id: Annotated[int, typer.Argument(help="The learning's id")],
                           by: Annotated[str | None, typer.Option(help="Reviewer (default: LEVHAOLAM_STAFF_NAME)")]
                           = None) -> None:
    """Never use this lesson (an approved one stops being used)."""
    await _review(learning_id, "rejected", by)


def main() -> None:
    # pgserver's exit hook reaches platformdirs, which warns when XDG_RUNTIME_DIR is unset (root, CI).
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    app(prog_name="levhaolam")


if __name__ == "__main__":
    sys.exit(main())
