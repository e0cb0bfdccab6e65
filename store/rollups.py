"""The rollups of migrations 0011 and 0015-0017: what the saved analytics queries and knowledge search read instead of
scanning.

Triggers keep them exact as rows change; rebuilding computes them again from the raw tables (after a bulk load
with the triggers off, or to check them: `levhaolam db rollups`).
"""

from __future__ import annotations

import psycopg


async def rebuild_rollups(conn: psycopg.AsyncConnection) -> None:
    """Recompute every rollup from the raw tables, in the caller's transaction (or its own, in autocommit)."""
    async with conn.transaction():
        await conn.execute("SELECT support_rollups_rebuild()")
        await conn.execute("SELECT support_detail_rollups_rebuild()")
        await conn.execute("SELECT support_comparison_rollups_rebuild()")
        await conn.execute("SELECT support_task_rollups_rebuild()")
        await conn.execute("SELECT knowledge_lexemes_rebuild()")
