from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest


@pytest.fixture
async def kconn(knowledge_url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True) as conn:
        yield conn
