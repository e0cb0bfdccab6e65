"""Once through the real platform: a Chatwoot webhook, a bridge worker, the orchestrator's HTTP API with its real
pipeline (router, identification, MCP servers over HTTP, confirmation), and the answer back in (stand-in) Chatwoot."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from orchestrator.app import create_app
from orchestrator.pipeline import Pipeline
from servers.knowledge.embeddings import LocalMiniLM
from tests.bridge import payloads
from tests.bridge.conftest import rig_on
from tests.bridge.standins import SERVICE_TOKEN
from tests.helpers import status_of
from tests.orchestrator.conftest import platform_on


async def test_a_pause_asked_in_chatwoot_is_confirmed_with_a_button_and_done(knowledge_url: str,
                                                                            embedder: LocalMiniLM) -> None:
    async with platform_on(knowledge_url, embedder) as platform:
        @contextlib.asynccontextmanager
        async def running() -> AsyncIterator[Pipeline]:
            yield platform.pipeline

        customer = await platform.customer()
        async with rig_on(knowledge_url, orchestrator_app=create_app(running, SERVICE_TOKEN)) as rig:
            await rig.deliver(payloads.incoming("Please pause my subscription for 2 months", conversation=500,
                                                message_id=5000, email=customer["email"]))
            await rig.drain(within_s=60)
            [question] = rig.chatwoot.messages(500)
            assert question["content_type"] == "input_select", question
            yes = next(item for item in question["content_attributes"]["items"]
                       if item["value"].startswith("confirm:"))
            assert (await status_of(platform.db, customer["subscription"]))[0] == "active"

            await rig.deliver(payloads.button_answer(yes["value"], yes["title"], items=question["content_attributes"]
                                                     ["items"], conversation=500, message_id=9000))
            await rig.drain(within_s=60)
            done = rig.chatwoot.messages(500)[-1]
            assert len(rig.chatwoot.messages(500)) == 2
            assert (await status_of(platform.db, customer["subscription"]))[0] == "paused", done
            assert rig.chatwoot.violations == []
