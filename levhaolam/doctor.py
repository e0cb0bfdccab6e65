"""What is configured and reachable, without printing a secret."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from schemas.settings import Settings
from store.database import check_reachable, database_url, pg_data_dir, redact_url
from store.errors import StoreError
from store.migrate import discover

HTTP_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not configured, and that is allowed (offline mode)
    detail: str
    required: bool = False


async def _database(settings: Settings) -> list[Check]:
    where = "DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {pg_data_dir(settings)}"
    try:
        url = database_url(settings)
        version = await check_reachable(url, settings.db_connect_timeout_s)
    except StoreError as exc:
        return [Check("database", False, f"{where}: {exc}", required=True)]
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        vector = await (await conn.execute(
            "SELECT coalesce((SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'), "
            "(SELECT 'available ' || default_version FROM pg_available_extensions WHERE name = 'vector'))"
        )).fetchone()
        has_table = await (await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")).fetchone()
        applied = 0
        if has_table and has_table[0]:
            applied = (await (await conn.execute("SELECT count(*) FROM schema_migrations")).fetchone())[0]
    total = len(discover())
    label = redact_url(url) if settings.database_url else where
    return [
        Check("database", True, f"{label}, PostgreSQL {version}", required=True),
        Check(
            "pgvector", bool(vector and vector[0]), f"vector {vector[0]}" if vector and vector[0] else "not installed"
        ),
        Check(
            "migrations",
            applied == total,
            f"{applied} of {total} applied" + ("" if applied == total else "; run `levhaolam db migrate`"),
        ),
    ]


async def _http(client: httpx.AsyncClient, name: str, url: str, headers: dict[str, str] | None = None) -> Check:
    try:
        response = await client.get(url, headers=headers or {})
    except httpx.HTTPError as exc:
        return Check(name, False, f"unreachable at {url}: {type(exc).__name__}")
    if response.status_code in (401, 403):
        return Check(name, False, f"reachable at {url}, but the credentials were refused (HTTP {response.status_code})")
    return Check(name, True, f"reachable at {url} (HTTP {response.status_code})")


def _not_set(name: str, fallback: str) -> Check:
    return Check(name, None, f"not configured: {fallback}")


def _webhook_secret(settings: Settings) -> Check:
    if settings.chatwoot_webhook_secret is not None:
        return Check("webhook secret", True, "set: the bridge refuses unsigned, altered or stale webhooks")
    unsigned = "the bridge accepts unsigned webhooks (set CHATWOOT_WEBHOOK_SECRET to the agent bot's secret)"
    # With a Chatwoot to answer through, anyone who can reach the bridge could post as a customer.
    return Check("webhook secret", False if settings.chatwoot_base_url else None, unsigned)


async def run_checks(settings: Settings) -> list[Check]:
    checks = await _database(settings)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as client:
        if settings.openai_api_key:
            checks.append(await _http(client, "openai", "https://api.openai.com/v1/models",
                                      {"Authorization": f"Bearer {settings.openai_api_key.get_secret_value()}"}))
        else:
            checks.append(_not_set("openai", "the offline router and brain answer (OPENAI_API_KEY)"))
        if settings.anthropic_api_key:
            checks.append(await _http(client, "anthropic", "https://api.anthropic.com/v1/models",
                                      {"x-api-key": settings.anthropic_api_key.get_secret_value(),
                                       "anthropic-version": "2023-06-01"}))
        else:
            checks.append(_not_set("anthropic", "Claude categories fall back to OpenAI or offline (ANTHROPIC_API_KEY)"))
        if settings.pinecone_api_key and settings.pinecone_index_host:
            checks.append(await _http(client, "pinecone", settings.pinecone_index_host.rstrip("/")
                                      + "/describe_index_stats",
                                      {"Api-Key": settings.pinecone_api_key.get_secret_value()}))
        elif settings.pinecone_api_key:
            checks.append(Check("pinecone", False, "PINECONE_API_KEY is set but PINECONE_INDEX_HOST is not; "
                                                   "knowledge stays in pgvector until both are set"))
        else:
            checks.append(_not_set("pinecone", "knowledge is stored in PostgreSQL with pgvector (PINECONE_API_KEY)"))
        if settings.langfuse_public_key and settings.langfuse_secret_key and settings.langfuse_host:
            checks.append(await _http(client, "langfuse", settings.langfuse_host.rstrip("/") + "/api/public/health"))
        else:
            checks.append(_not_set("langfuse", "no tracing (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, LANGFUSE_HOST)"))
        if settings.chatwoot_base_url and settings.chatwoot_api_token:
            checks.append(await _http(client, "chatwoot", settings.chatwoot_base_url.rstrip("/") + "/api",
                                      {"api_access_token": settings.chatwoot_api_token.get_secret_value()}))
        else:
            checks.append(_not_set("chatwoot", "the bridge cannot reply (CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN)"))
        checks.append(_webhook_secret(settings))
    return checks
