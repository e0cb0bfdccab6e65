"""`levhaolam up`: the whole platform on one machine, as one supervised process tree.

The parent makes the database ready (the embedded PostgreSQL starts with it and stops when it exits, last), then
runs every service as a child `levhaolam serve ...` process with prefixed logs. A child that dies is restarted
(with a growing pause) and said so; Ctrl-C or SIGTERM stops the children, then the parent exits. A second `up`
finds the first one's lock and says so instead of fighting over ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from schemas.services import (
    BRIDGE_PORT,
    DEFAULT_HOST,
    DEFAULT_PORTS,
    MCP_PATH,
    ORCHESTRATOR_PORT,
    TURNS_PATH,
    McpServer,
)

STOP_GRACE_S = 10.0
MAX_RESTART_PAUSE_S = 30.0


class AlreadyRunning(RuntimeError):
    """Another `levhaolam up` holds the lock."""


@dataclass(frozen=True)
class Service:
    name: str
    args: tuple[str, ...]
    url: str | None = None


def services(with_chatwoot: bool = True) -> list[Service]:
    """Every service; the bridge worker only when Chatwoot is configured (the chat page needs no worker)."""
    mcp = [Service(server.value, ("serve", server.value, "--transport", "http"),
                   f"http://{DEFAULT_HOST}:{DEFAULT_PORTS[server]}{MCP_PATH}") for server in McpServer]
    return [*mcp,
            Service("orchestrator", ("serve", "orchestrator"), f"http://{DEFAULT_HOST}:{ORCHESTRATOR_PORT}{TURNS_PATH}"),
            Service("bridge", ("serve", "bridge", "--chat-page"), f"http://{DEFAULT_HOST}:{BRIDGE_PORT}/"),
            *([Service("worker", ("serve", "bridge-worker"))] if with_chatwoot else [])]


@contextlib.contextmanager
def single_instance(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise AlreadyRunning(f"the platform is already running (levhaolam up, pid {holder}); stop it with "
                                 "Ctrl-C in its terminal or `kill " + holder + "`") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()


def child_environment(base: dict[str, str], database_url: str) -> dict[str, str]:
    """What every child shares: the database, and secrets that live only as long as this `up` when unset."""
    env = dict(base)
    env["DATABASE_URL"] = database_url
    env.setdefault("LEVHAOLAM_JWT_SECRET", secrets.token_urlsafe(48))
    env.setdefault("LEVHAOLAM_SERVICE_TOKEN", secrets.token_urlsafe(48))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Supervisor:
    command: list[str]  # how to run `levhaolam` (this interpreter's console script)
    env: dict[str, str]
    with_chatwoot: bool
    say: Callable[[str], None]
    children: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    stopping: bool = False

    async def _pipe(self, name: str, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        width = max(len(s.name) for s in services(self.with_chatwoot))
        while line := await stream.readline():
            self.say(f"{name:>{width}} | {line.decode(errors='replace').rstrip()}")

    async def _run(self, service: Service) -> None:
        pause = 1.0
        while not self.stopping:
            process = await asyncio.create_subprocess_exec(
                *self.command, *service.args, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
            self.children[service.name] = process
            await asyncio.gather(self._pipe(service.name, process.stdout), process.wait())
            if self.stopping:
                return
            self.say(f"{service.name} exited with code {process.returncode}; restarting in {pause:.0f} s")
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_RESTART_PAUSE_S)

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self._run(service)) for service in services(self.with_chatwoot)]
        await stop.wait()
        self.stopping = True
        self.say("stopping: services first, then the database")
        for process in self.children.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in self.children.values())), STOP_GRACE_S)
        for process in self.children.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def levhaolam_command() -> list[str]:
    script = Path(sys.executable).parent / "levhaolam"
    return [str(script)] if script.exists() else [sys.executable, "-m", "levhaolam.cli"]


def banner(env: dict[str, str], with_chatwoot: bool) -> str:
    lines = ["", "The platform is up:",
             f"  chat page (a customer's view)  http://{DEFAULT_HOST}:{BRIDGE_PORT}/",
             f"  orchestrator API               http://{DEFAULT_HOST}:{ORCHESTRATOR_PORT}{TURNS_PATH} "
             "(Authorization: Bearer $LEVHAOLAM_SERVICE_TOKEN)",
             "  MCP servers (streamable HTTP, bearer token from `levhaolam token`):"]
    lines += [f"    {server.value:<14} http://{DEFAULT_HOST}:{port}{MCP_PATH}"
              for server, port in DEFAULT_PORTS.items()]
    if not with_chatwoot:
        lines.append("  no bridge worker: Chatwoot is not configured (CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN, "
                     "CHATWOOT_ACCOUNT_ID); the chat page needs none")
    if "LEVHAOLAM_JWT_SECRET" not in os.environ:
        lines.append("  (LEVHAOLAM_JWT_SECRET and LEVHAOLAM_SERVICE_TOKEN were generated for this run; set them in "
                     ".env to keep them across runs)")
    lines += ["", "Claude Desktop (claude_desktop_config.json), for staff, over stdio:", claude_desktop_block(), ""]
    return "\n".join(lines)


def claude_desktop_block() -> str:
    import json

    servers = {f"levhaolam-{server.value}": {"command": "levhaolam", "args": ["serve", server.value, "--transport",
                                                                             "stdio"],
                                             "env": {"LEVHAOLAM_STAFF_NAME": "your.name"}} for server in McpServer}
    return json.dumps({"mcpServers": servers}, indent=2)
