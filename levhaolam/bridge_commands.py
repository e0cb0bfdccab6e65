"""The bridge's commands: `serve bridge`, `serve bridge-worker`, `run` (the whole platform behind the local chat
page) and `bridge dead-letters`. The CLI wires them; the bridge itself knows nothing of the orchestrator's code."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import Callable, Iterator

import psycopg
from starlette.types import ASGIApp

from bridge.service import make_app, run_worker
from schemas.settings import Settings
from store import bridge_jobs as jobs
from store.database import check_reachable, database_url
from store.migrate import migrate


class _QuietServer:
    """uvicorn, stopped by SIGTERM/SIGINT through the event loop: uvicorn's own handling re-raises the signal after
    shutting down, which (with two servers in one process, as in `run`) ends in a traceback instead of an exit."""

    def __init__(self, app: ASGIApp, host: str, port: int, log_level: str) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, self.handle_exit, signum, None)
                try:
                    yield
                finally:
                    for signum in (signal.SIGTERM, signal.SIGINT):
                        loop.remove_signal_handler(signum)

        # No access log: one line per webhook is noise at hundreds a second, and costs acknowledgement time.
        self._server = Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False))

    async def serve(self) -> None:
        await self._server.serve()


async def _migrated(settings: Settings) -> None:
    url = database_url(settings)
    await check_reachable(url, settings.db_connect_timeout_s)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate(conn)  # a no-op when up to date: a new machine starts with one command


async def serve_bridge(settings: Settings, host: str, port: int, chat_page: bool) -> None:
    await _migrated(settings)
    await _QuietServer(make_app(settings, chat_page=chat_page), host, port, "info").serve()


async def serve_worker(settings: Settings) -> None:
    await _migrated(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Stop taking jobs; a job cut off mid-way is resumed by another worker once its lease runs out.
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, stop)


async def run_locally(settings: Settings, host: str, port: int, say: Callable[[str], None]) -> None:
    """The chat page with the whole platform in this process: database, MCP servers, orchestrator, bridge."""
    from levhaolam.local_platform import local_pipeline
    from orchestrator.app import create_app as orchestrator_app
    from servers.common.loopback import serve_on_loopback

    token = secrets.token_urlsafe(48)  # nothing outside this process calls this orchestrator
    orchestrator = orchestrator_app(lambda: local_pipeline(settings, say), token)
    # The first run seeds the demo data and embeds the help center: allow it minutes, not seconds.
    async with serve_on_loopback(orchestrator, startup_timeout_s=900) as orchestrator_url:
        app = make_app(settings, chat_page=True, orchestrator_url=orchestrator_url, service_token=token)
        say(f"The chat page is at http://{host}:{port}/ (Ctrl+C stops everything).")
        await _QuietServer(app, host, port, "warning").serve()


async def dead_letters(settings: Settings, replay: list[int], replay_all: bool) -> tuple[list[jobs.JobRow], list[int]]:
    """The dead letters (before any replay), and the ids replayed."""
    await _migrated(settings)
    async with await psycopg.AsyncConnection.connect(database_url(settings), autocommit=True) as conn:
        found = await jobs.dead_letters(conn, limit=1000)
        wanted = [row.id for row in found] if replay_all else replay
        replayed = []
        for job_id in wanted:
            if await jobs.replay(conn, job_id):
                replayed.append(job_id)
    return found, replayed
