"""The bridge and its workers built from the platform's settings (what `levhaolam serve bridge|bridge-worker` run)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette

from bridge.app import BridgeConfig, create_app
from bridge.chatwoot import HttpChatwoot
from bridge.dispatch import Handoff
from bridge.turns_client import HttpTurns, TurnsApi
from bridge.worker import Worker, WorkerConfig
from schemas.settings import Settings
from store.database import database_url, open_pool


class BridgeConfigError(Exception):
    """A setting the bridge cannot run without, said in one line."""


def handoff_of(settings: Settings) -> Handoff:
    return Handoff(team_id=settings.handoff_team_id, message=settings.handoff_message)


def bridge_config(settings: Settings, *, chat_page: bool) -> BridgeConfig:
    secret = settings.chatwoot_webhook_secret
    return BridgeConfig(webhook_secret=secret.get_secret_value() if secret else None,
                        account_id=settings.chatwoot_account_id, handoff=handoff_of(settings), chat_page=chat_page)


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(concurrency=settings.bridge_worker_concurrency, max_attempts=settings.bridge_max_attempts,
                        retry_base_s=settings.bridge_retry_base_s, lease_s=settings.bridge_lease_s,
                        handoff=handoff_of(settings))


def _service_token(settings: Settings) -> str:
    if settings.service_token is None:
        raise BridgeConfigError("the bridge needs LEVHAOLAM_SERVICE_TOKEN, the orchestrator's service token")
    return settings.service_token.get_secret_value()


def make_app(settings: Settings, *, chat_page: bool, orchestrator_url: str | None = None,
             service_token: str | None = None) -> Starlette:
    """The bridge's HTTP app on the configured database; the chat page talks to `orchestrator_url` (default: the
    configured one)."""
    url = database_url(settings)
    token = service_token or (_service_token(settings) if chat_page else "")

    @contextlib.asynccontextmanager
    async def pool() -> AsyncIterator[AsyncConnectionPool]:
        async with open_pool(url, max_size=settings.db_pool_max_size, timeout_s=settings.db_connect_timeout_s) as p:
            yield p

    @contextlib.asynccontextmanager
    async def turns() -> AsyncIterator[TurnsApi]:
        client = HttpTurns(orchestrator_url or settings.orchestrator_url, token)
        try:
            yield client
        finally:
            await client.aclose()

    return create_app(bridge_config(settings, chat_page=chat_page), pool, turns if chat_page else None)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """One worker process: `concurrency` jobs at a time until `stop` is set."""
    if not (settings.chatwoot_base_url and settings.chatwoot_api_token and settings.chatwoot_account_id):
        raise BridgeConfigError("the bridge worker needs CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN (the agent bot's "
                                "token) and CHATWOOT_ACCOUNT_ID")
    token = _service_token(settings)
    config = worker_config(settings)
    url = database_url(settings)
    chatwoot = HttpChatwoot(settings.chatwoot_base_url, settings.chatwoot_api_token.get_secret_value(),
                            settings.chatwoot_account_id)
    turns = HttpTurns(settings.orchestrator_url, token)
    try:
        async with open_pool(url, max_size=config.concurrency + 1, timeout_s=settings.db_connect_timeout_s) as pool:
            await Worker(pool, chatwoot, turns, config).run(stop, listen_url=url)
    finally:
        await chatwoot.aclose()
        await turns.aclose()
