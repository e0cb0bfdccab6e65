from __future__ import annotations

import pytest

from tests.servers.conftest import make_server, memory_client  # noqa: F401 - make_server is a fixture


@pytest.fixture
async def analytics(make_server):  # noqa: F811
    async with memory_client(make_server("analytics", LEVHAOLAM_ANALYTICS_TIMEOUT_MS=700)) as client:
        yield client
