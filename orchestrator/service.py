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
from orchestrator.categories import (
    Categories,
    CategoryConfigError,
    ReasoningEffort,
    with_stored_overrides,
)
from orchestrator.connections import McpConnections
from orchestrator.costs import MeteredModel, PriceTable, load_prices
from orchestrator.fallback import FallbackBrain
from orchestrator.guardrails import Guard, ModelJudge
from orchestrator.pipeline import IDENTIFY_TOOLS, Clock, Pipeline, utc_now
from orchestrator.providers import ProviderHealth, provider_model
from orchestrator.router import ModelRouting, OfflineRouting, Router
from schemas.categories import Category
from schemas.services import McpServer, mcp_url
from schemas.settings import Settings
from store import category_overrides
from store.database import database_url, open_pool

log = logging.getLogger(__name__)


class OrchestratorConfigError(RuntimeError):
    """The orchestrator cannot start with this configuration; the message says what to set."""


def openai_model(settings: Settings, name: str) -> Model | None:
    """The model for `name` when its provider's key is set (OpenAI or Anthropic), else None (offline)."""
    return provider_model(settings, name)


ModelFactory = Callable[[str], Model | None]


def brains(categories: Categories, model_for: ModelFactory, health: ProviderHealth | None = None
           ) -> Callable[[Category, dict[str, Any]], Brain]:
    """Per category and turn: the chain of model brains to try (metered, so each turn knows its cost), ending in the
    offline playbooks; with no key at all, the offline playbooks alone."""
    offline = OfflineBrain()
    health = health or ProviderHealth()
    models: dict[str, Model | None] = {}
    model_brains: dict[tuple[str, ReasoningEffort], ModelBrain] = {}

    def model_brain(name: str, effort: ReasoningEffort) -> ModelBrain | None:
        if name not in models:
            model = model_for(name)
            models[name] = MeteredModel(model, name) if model is not None else None
        metered = models[name]
        if metered is None:
            return None
        return model_brains.setdefault((name, effort), ModelBrain(metered, name, effort))

    def brain_for(category: Category, memory: dict[str, Any]) -> Brain:
        config = categories[category]
        chain: list[tuple[str, Brain]] = []
        for name in config.models_to_try(retention=bool(memory.get("retention_offered"))):
            brain = model_brain(name, config.reasoning_effort)
            if brain is not None:
                chain.append((name, brain))
        return FallbackBrain(chain, offline, health) if chain else offline

    return brain_for


def guard_for(categories: Categories, model_for: ModelFactory) -> Guard:
    """The guardrails: offline rules, plus the model judge when its model's key is set."""
    model = model_for(categories.guard.model)
    if model is None:
        return Guard()
    return Guard(judge=ModelJudge(MeteredModel(model, categories.guard.model),
                                  categories.guard.reasoning_effort.value))


def check_prices(categories: Categories, prices: PriceTable) -> None:
    missing = prices.missing(categories.model_names)
    if missing:
        raise CategoryConfigError(f"orchestrator/categories.toml names models without a price in "
                                  f"orchestrator/prices.toml: {', '.join(missing)}")


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
                           per_server: int = 4, guard: Guard | None = None) -> AsyncIterator[Pipeline]:
    if settings.jwt_secret is None:
        raise OrchestratorConfigError("the orchestrator needs LEVHAOLAM_JWT_SECRET (the same secret the MCP servers "
                                      "verify) to mint per-turn tokens")
    secret = settings.jwt_secret.get_secret_value()
    async with open_pool(database_url(settings), max_size=settings.db_pool_max_size,
                         timeout_s=settings.db_connect_timeout_s) as pool:
        if categories is None:
            async with pool.connection() as conn:
                overrides = await category_overrides.overrides(conn)
            categories = with_stored_overrides(overrides)
        prices = load_prices()
        check_prices(categories, prices)
        model_for = model_for or (lambda name: provider_model(settings, name))
        if router is None:
            router_model = model_for(categories.router.model)
            router = ModelRouting(MeteredModel(router_model, categories.router.model), categories.router) \
                if router_model is not None else OfflineRouting()
        needed = {server for config in categories.categories.values() for server in config.servers} | {
            McpServer.CUSTOMERS}
        urls = urls or {server: mcp_url(server, settings.mcp_url_template) for server in needed}
        connections = McpConnections(urls, warm_tokens(categories, secret), per_server=per_server)
        try:
            listed = {server: await connections.tools_of(server) for server in needed}
            categories.check_tools_exist(listed)
            yield Pipeline(pool, connections, categories, router, brains(categories, model_for), secret, clock,
                           guard=guard or guard_for(categories, lambda name: provider_model(settings, name)),
                           prices=prices)
        finally:
            await connections.close()
