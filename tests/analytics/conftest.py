from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastmcp import Client

from tests.conftest import ServerFactory
from tests.helpers import memory_client


@pytest.fixture
async def analytics(make_server: ServerFactory) -> AsyncIterator[Client]:
    async with memory_client(make_server("analytics", LEVHAOLAM_ANALYTICS_TIMEOUT_MS=700)) as client:
        yield client
