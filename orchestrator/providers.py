"""Model providers: which provider serves a model name, how each is reached (key, timeout, retries), what counts as
an outage (the fallback chain moves on) as opposed to a bad answer (the turn escalates), and a short memory of
providers that just failed, so the next turns do not wait for them again.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agents import Model
from agents.exceptions import AgentsException

from orchestrator.costs import Provider
from schemas.settings import Settings

log = logging.getLogger(__name__)

# After an outage, a provider's models are skipped for this long: a turn should not spend its retries and timeouts
# again on a provider that failed a moment ago. Short, so a recovered provider is used again quickly.
COOLDOWN_S = 30.0


class UnknownProvider(ValueError):
    """A model name no provider serves (categories.toml names models by their provider's prefix)."""


def provider_of(model: str) -> Provider:
    if model.startswith("claude-"):
        return "anthropic"
    if model.startswith(("gpt-", "o1", "o3", "o4")):
        return "openai"
    raise UnknownProvider(f"no provider serves {model!r}: OpenAI models start with 'gpt-', Anthropic ones with "
                          "'claude-'")


class ModelUnavailable(AgentsException):
    """A provider could not answer (overloaded, rate limited, down, timed out, refused our key) after the retries its
    policy allows. `kind` is machine-readable; nothing of this reaches the customer."""

    def __init__(self, provider: Provider, model: str, kind: str, *, status: int | None = None,
                 detail: str = "") -> None:
        super().__init__(f"{provider} model {model} unavailable: {kind}" + (f" ({status})" if status else "")
                         + (f": {detail}" if detail else ""))
        self.provider = provider
        self.model = model
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After is honoured when it is not longer than we would
    wait at most (a longer one means: fall back now rather than keep the customer waiting)."""

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (0-based), or None to stop retrying."""
        if attempt >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_delay_s else None
        backoff: float = min(self.base_delay_s * (2.0 ** attempt), self.max_delay_s)
        return backoff * (0.75 + random.random() * 0.25)  # jitter spreads retries of many turns


def _outage_types() -> tuple[type[BaseException], ...]:
    import anthropic
    import openai

    return (ModelUnavailable, openai.APIConnectionError, openai.APIStatusError, anthropic.APIConnectionError,
            anthropic.APIStatusError)


def is_outage(exc: BaseException) -> bool:
    """A provider failed to answer (fall back to the next model), as opposed to a model answering badly or a
    tool server failing (escalate)."""
    import openai

    if isinstance(exc, openai.APIStatusError) and exc.status_code in (400, 404, 422):
        return False  # our request is wrong: another model would not fix it
    return isinstance(exc, _outage_types())


@dataclass
class ProviderHealth:
    """Which providers failed recently (process-local: each replica learns for itself)."""

    cooldown_s: float = COOLDOWN_S
    clock: Callable[[], float] = time.monotonic
    _failed_at: dict[Provider, float] = field(default_factory=dict)

    def available(self, provider: Provider) -> bool:
        failed = self._failed_at.get(provider)
        return failed is None or self.clock() - failed >= self.cooldown_s

    def failed(self, provider: Provider) -> None:
        self._failed_at[provider] = self.clock()

    def recovered(self, provider: Provider) -> None:
        self._failed_at.pop(provider, None)


def provider_model(settings: Settings, name: str) -> Model | None:
    """The model for `name` when its provider's key is set (with that provider's timeout and retries), else None."""
    provider = provider_of(name)
    if provider == "openai":
        if settings.openai_api_key is None:
            return None
        from agents import OpenAIResponsesModel
        from openai import AsyncOpenAI

        # The OpenAI client retries connection errors, 408, 409, 429 and 5xx itself, with backoff.
        return OpenAIResponsesModel(model=name, openai_client=AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(), timeout=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries))
    if settings.anthropic_api_key is None:
        return None
    from anthropic import AsyncAnthropic

    from orchestrator.anthropic_model import AnthropicModel

    client = AsyncAnthropic(api_key=settings.anthropic_api_key.get_secret_value(),
                            timeout=settings.anthropic_timeout_s, max_retries=0)
    return AnthropicModel(name, client, retry=RetryPolicy(max_retries=settings.anthropic_max_retries))
