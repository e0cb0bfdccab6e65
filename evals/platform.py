"""The platform an experiment replays tickets through: the database made ready as for `levhaolam chat`, and the MCP
servers a conversation needs, in this process over real HTTP on loopback. Each config then gets its own pipeline
over the same servers."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import SecretStr

from levhaolam.local_platform import CONVERSATION_SERVERS, prepare_database
from schemas.services import MCP_PATH, McpServer
from schemas.settings import Settings
from servers.common.loopback import serve_on_loopback
from servers.common.runtime import Clock, utc_now
from servers.registry import builder


def with_secret(settings: Settings) -> Settings:
    if settings.jwt_secret is not None:
        return settings
    # Nothing outside this process sees these servers: a throwaway signing secret is enough.
    return settings.model_copy(update={"jwt_secret": SecretStr(secrets.token_urlsafe(48))})


@contextlib.asynccontextmanager
async def local_servers(settings: Settings, *, clock: Clock = utc_now, say: Callable[[str], None] = lambda _: None,
                        server_options: dict[McpServer, dict[str, Any]] | None = None, prepare: bool = True
                        ) -> AsyncIterator[dict[McpServer, str]]:
    if prepare:
        await prepare_database(settings, say)
    async with contextlib.AsyncExitStack() as stack:
        urls: dict[McpServer, str] = {}
        for server in CONVERSATION_SERVERS:
            app = builder(server.value)(settings, transport="http", clock=clock,
                                        **(server_options or {}).get(server, {}))
            base = await stack.enter_async_context(serve_on_loopback(app.http_app(path=MCP_PATH)))
            urls[server] = f"{base}{MCP_PATH}"
        yield urls
