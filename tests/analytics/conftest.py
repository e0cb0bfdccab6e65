from __future__ import annotations

import pytest

from tests.servers.conftest import memory_client  # noqa: F401 - shared fixtures below
from tests.servers.conftest import db, db_url, make_server  # noqa: F401


@pytest.fixture
async def analytics(make_server):  # noqa: F811
    async with memory_client(make_server("analytics", LEVHAOLAM_ANALYTICS_TIMEOUT_MS=700)) as client:
        yield client
