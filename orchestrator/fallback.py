"""A provider outage does not reach the customer: the category's models are tried in order (its own or retention
model, then the fallback model), then the offline playbooks; only if those fail too does the turn escalate (the
pipeline's holding reply). Running the next brain from the start is safe: brains never execute an action (a proposal
waits for the customer's yes), and the read-only tools they called can be called again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.brain import Brain, BrainInput, BrainReply
from orchestrator.providers import ModelUnavailable, ProviderHealth, is_outage, provider_of

log = logging.getLogger(__name__)


@dataclass
class FallbackBrain:
    chain: Sequence[tuple[str, Brain]]  # (model name, its brain), in the order to try
    offline: Brain
    health: ProviderHealth

    async def handle(self, turn: BrainInput) -> BrainReply:
        failed: list[str] = []
        for name, brain in self.chain:
            provider = provider_of(name)
            if not self.health.available(provider):
                failed.append(f"model_unavailable:{name}:cooling_down")
                continue
            try:
                reply = await brain.handle(turn)
            except Exception as exc:
                if not is_outage(exc):
                    raise  # a bad answer or a dead tool server is not cured by another model: the turn escalates
                kind = exc.kind if isinstance(exc, ModelUnavailable) else type(exc).__name__
                log.warning("%s unavailable (%s) in %s; falling back", name, kind, turn.category.value)
                self.health.failed(provider)
                failed.append(f"model_unavailable:{name}:{kind}")
                continue
            self.health.recovered(provider)
            if failed:
                reply.fallbacks = [*failed, f"fallback:{name}"]
            return reply
        reply = await self.offline.handle(turn)
        reply.fallbacks = [*failed, "fallback:offline_brain"]
        return reply
