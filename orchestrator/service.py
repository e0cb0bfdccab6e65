"""Assembling the orchestrator from settings: database pool, pooled MCP connections (checked against
categories.toml at start), router and brains. The one place that knows which brain runs for which category."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from agents import Model

from access.tokens import mint_token
from orchestrator.brain import Brain
from orchestrator.brain_model import ModelBrain
from orchestrator.brain_offline import OfflineBrain
from orchestrator.categories import Categories, CategoryConfigError, load_categories
from orchestrator.connections import McpConnections
from orchestrator.pipeline import IDENTIFY_TOOLS, Clock, Pipeline, utc_now
from orchestrator.router import ModelRouting, OfflineRouting, Router
from schemas.categories import Category
from schemas.services import McpServer, mcp_url
from schemas.settings import Settings
from store.database import database_url, open_pool

log = logging.getLogger(__name__)


class OrchestratorConfigError(RuntimeError):
    """The orchestrator cannot start with this configuration; the message says what to set."""


def openai_model(settings: Settings, name: str) -> Model | None:
    """An OpenAI model when a key is set; Claude models need the Anthropic adapter (not built yet): offline."""
    if settings.openai_api_key is None or not name.startswith(("gpt-", "o")):
        return None
    from agents import OpenAIResponsesModel
    from openai import AsyncOpenAI

    return OpenAIResponsesModel(model=name, openai_client=AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value()))


ModelFactory = Callable[[str], Model | None]


def brains(categories: Categories, model_for: ModelFactory) -> Callable[[Category, dict[str, Any]], Brain]:
    offline = OfflineBrain()
    cache: dict[str, Brain] = {}

    def brain_for(category: Category, memory: dict[str, Any]) -> Brain:
        config = categories[category]
        name = config.retention_model if memory.get("retention_offered") and config.retention_model else config.model
        if name not in cache:
            model = model_for(name)
            cache[name] = ModelBrain(model, name, config.reasoning_effort) if model is not None else offline
        return cache[name]

    return brain_for


def warm_tokens(categories: Categories, secret: str) -> Callable[[McpServer], str]:
    """Per server, a token for every tool any category (or identification) may call there, bound to nobody."""
    wide: dict[McpServer, set[str]] = {server: set() for server in McpServer}
    for config in categories.categories.values():
        for server, tools in config.tools.items():
            wide[server].update(tools)
    for tool, server in IDENTIFY_TOOLS.items():
        wide[server].add(tool)

    def token(server: McpServer) -> str:
        return mint_token(secret, subject="orchestrator/connections", scope="orchestrator",
                          tools=sorted(wide[server]), ttl_seconds=24 * 3600)

    return token


@contextlib.asynccontextmanager
async def running_pipeline(settings: Settings, *, categories: Categories | None = None,
                           model_for: ModelFactory | None = None, router: Router | None = None,
                           clock: Clock = utc_now, urls: dict[McpServer, str] | None = None,
                           per_server: int = 4) -> AsyncIterator[Pipeline]:
    if settings.jwt_secret is None:
        raise OrchestratorConfigError("the orchestrator needs LEVHAOLAM_JWT_SECRET (the same secret the MCP servers "
                                      "verify) to mint per-turn tokens")
    secret = settings.jwt_secret.get_secret_value()
    categories = categories or load_categories()
    model_for = model_for or (lambda name: openai_model(settings, name))
    if router is None:
        router_model = model_for(categories.router.model)
        router = ModelRouting(router_model, categories.router) if router_model is not None else OfflineRouting()
    needed = {server for config in categories.categories.values() for server in config.servers} | {
        McpServer.CUSTOMERS}
    urls = urls or {server: mcp_url(server, settings.mcp_url_template) for server in needed}
    connections = McpConnections(urls, warm_tokens(categories, secret), per_server=per_server)
    try:
        listed = {server: await connections.tools_of(server) for server in needed}
        categories.check_tools_exist(listed)
        async with open_pool(database_url(settings), max_size=settings.db_pool_max_size,
                             timeout_s=settings.db_connect_timeout_s) as pool:
            yield Pipeline(pool, connections, categories, router, brains(categories, model_for), secret, clock)
    except CategoryConfigError:
        raise
    finally:
        await connections.close()
