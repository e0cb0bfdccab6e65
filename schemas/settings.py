"""Platform settings, from the environment or a `.env` file. Secrets are SecretStr: never printed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.services import DEFAULT_MCP_URL_TEMPLATE, DEFAULT_ORCHESTRATOR_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (e.g. Supabase). Unset: an embedded PostgreSQL under data_dir is used.",
    )
    data_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("LEVHAOLAM_DATA_DIR", "data_dir"),
        description="Where the embedded PostgreSQL keeps its files (data_dir/pgdata); unset: the user data folder.",
    )
    db_pool_max_size: int = Field(default=10, ge=1, le=100, validation_alias="LEVHAOLAM_DB_POOL_MAX_SIZE")
    db_connect_timeout_s: int = Field(default=5, ge=1, le=120, validation_alias="LEVHAOLAM_DB_CONNECT_TIMEOUT")

    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    # Per provider: how long one model request may take and how often a failed one is retried (rate limits,
    # overload, 5xx, timeouts) before the category's fallback model takes over.
    openai_timeout_s: float = Field(default=30.0, gt=0, le=600, validation_alias="LEVHAOLAM_OPENAI_TIMEOUT_SECONDS",
                                    description="Seconds one OpenAI request may take.")
    openai_max_retries: int = Field(default=2, ge=0, le=10, validation_alias="LEVHAOLAM_OPENAI_MAX_RETRIES",
                                    description="Retries of a failed OpenAI request.")
    anthropic_timeout_s: float = Field(default=60.0, gt=0, le=600,
                                       validation_alias="LEVHAOLAM_ANTHROPIC_TIMEOUT_SECONDS",
                                       description="Seconds one Anthropic request may take (thinking is slower).")
    anthropic_max_retries: int = Field(default=2, ge=0, le=10, validation_alias="LEVHAOLAM_ANTHROPIC_MAX_RETRIES",
                                       description="Retries of a failed Anthropic request.")
    pinecone_api_key: SecretStr | None = None
    pinecone_index_host: str | None = Field(default=None, validation_alias=AliasChoices("PINECONE_INDEX_HOST",
                                                                                       "pinecone_index_host"),
                                            description="Data-plane host of the Pinecone index (with PINECONE_API_KEY)")
    langfuse_public_key: SecretStr | None = None
    langfuse_secret_key: SecretStr | None = None
    langfuse_host: str | None = Field(default=None, validation_alias=AliasChoices("LANGFUSE_HOST", "LANGFUSE_BASE_URL"))
    # Tracing besides Langfuse, and the eval lab (see README, 'Observability and evals').
    otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="Base URL of an OTLP/HTTP receiver (traces go to its /v1/traces); unset: no OTLP export.")
    otlp_headers: SecretStr | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_HEADERS",
        description="Headers the OTLP receiver needs, as `key=value,key2=value2` (e.g. an API key).")
    trace_content: bool = Field(
        default=True, validation_alias="LEVHAOLAM_TRACE_CONTENT",
        description="Spans carry the customer's message and the reply, redacted of contact details; false: only "
                    "structure and numbers.")
    trace_url_template: str | None = Field(
        default=None, validation_alias="LEVHAOLAM_TRACE_URL_TEMPLATE",
        description="The console's link to a trace, {trace_id} filled in; unset: LANGFUSE_HOST/trace/{trace_id} "
                    "when Langfuse is configured.")
    judge_model: str = Field(default="gpt-5-mini", validation_alias="LEVHAOLAM_JUDGE_MODEL",
                             description="The LLM-as-judge of `levhaolam eval run` (with OPENAI_API_KEY).")
    chatwoot_base_url: str | None = None
    chatwoot_api_token: SecretStr | None = None
    chatwoot_account_id: int | None = None
    chatwoot_webhook_secret: SecretStr | None = Field(
        default=None, description="The agent bot's webhook secret: every webhook must carry its HMAC signature. "
                                  "Unset: webhooks are accepted unsigned (`levhaolam doctor` says so).")

    # The Chatwoot bridge and its workers.
    orchestrator_url: str = Field(default=DEFAULT_ORCHESTRATOR_URL, validation_alias="LEVHAOLAM_ORCHESTRATOR_URL",
                                  description="Where the bridge finds the orchestrator's API.")
    handoff_team_id: int | None = Field(default=None, ge=1, validation_alias="LEVHAOLAM_HANDOFF_TEAM_ID",
                                        description="Chatwoot team a handed-off conversation is assigned to.")
    handoff_message: str | None = Field(
        default=None, min_length=1, max_length=1000, validation_alias="LEVHAOLAM_HANDOFF_MESSAGE",
        description="What the customer reads when a person takes over; unset: the orchestrator's own words (in the "
                    "customer's language) on escalation, a standard English sentence on drafts.")
    bridge_worker_concurrency: int = Field(default=4, ge=1, le=64,
                                           validation_alias="LEVHAOLAM_BRIDGE_WORKER_CONCURRENCY",
                                           description="Jobs one bridge worker process runs at once.")
    bridge_max_attempts: int = Field(default=10, ge=1, le=100, validation_alias="LEVHAOLAM_BRIDGE_MAX_ATTEMPTS",
                                     description="Tries of one job before it becomes a dead letter.")
    bridge_retry_base_s: float = Field(default=2.0, gt=0, le=600,
                                       validation_alias="LEVHAOLAM_BRIDGE_RETRY_BASE_SECONDS",
                                       description="First retry delay; doubled per try, at most 5 minutes.")
    bridge_lease_s: float = Field(default=30.0, ge=0.5, le=3600, validation_alias="LEVHAOLAM_BRIDGE_LEASE_SECONDS",
                                  description="How long a silent worker keeps a job before another worker takes it.")

    # MCP servers: who may call what.
    jwt_secret: SecretStr | None = Field(
        default=None, validation_alias="LEVHAOLAM_JWT_SECRET",
        description="HS256 secret (at least 32 characters) that signs and verifies MCP bearer tokens.")
    jwt_public_key: str | None = Field(
        default=None, validation_alias="LEVHAOLAM_JWT_PUBLIC_KEY",
        description="PEM public key: verify RS256 tokens minted elsewhere instead of HS256.")
    staff_name: str = Field(default="staff", validation_alias="LEVHAOLAM_STAFF_NAME",
                            description="Caller identity recorded in the audit log for stdio sessions.")
    staff_tools: str = Field(default="*", validation_alias="LEVHAOLAM_STAFF_TOOLS",
                             description="Tools a stdio session may use: '*' or a comma-separated list.")
    confirmation_ttl_seconds: int | None = Field(
        default=None, ge=10, le=86_400, validation_alias="LEVHAOLAM_CONFIRMATION_TTL_SECONDS",
        description="How long a confirmation token stays valid; default from docs/policy.md.")
    cancel_link_key: SecretStr | None = Field(
        default=None, validation_alias="LEVHAOLAM_CANCEL_LINK_KEY",
        description="32 random bytes, base64: the AES-256-GCM key of personalised cancel links.")
    cancel_link_base_url: str = Field(default="https://levhaolam.com/account/cancel",
                                      validation_alias="LEVHAOLAM_CANCEL_LINK_BASE_URL")

    service_token: SecretStr | None = Field(
        default=None, validation_alias="LEVHAOLAM_SERVICE_TOKEN",
        description="Bearer token (32+ characters) that callers of the orchestrator's API (the bridge) present.")
    mcp_url_template: str = Field(
        default=DEFAULT_MCP_URL_TEMPLATE, validation_alias="LEVHAOLAM_MCP_URL_TEMPLATE",
        description="Where the orchestrator finds each MCP server; {server} and {port} are filled in.")
    analytics_model: str = Field(default="gpt-5.1", validation_alias="LEVHAOLAM_ANALYTICS_MODEL",
                                 description="OpenAI model of the analytics agent (with OPENAI_API_KEY).")
    analytics_timeout_ms: int = Field(
        default=5_000,
        ge=100,
        le=120_000,
        validation_alias="LEVHAOLAM_ANALYTICS_TIMEOUT_MS",
        description="Statement timeout of every analytics query.",
    )
    analytics_database_url: SecretStr | None = Field(
        default=None, validation_alias="LEVHAOLAM_ANALYTICS_DATABASE_URL",
        description="PostgreSQL URL that logs in as the SELECT-only role levhaolam_analytics (with its password); "
                    "unset: DATABASE_URL with that user and no password (the embedded PostgreSQL's local login).")

    @field_validator("jwt_secret", "service_token")
    @classmethod
    def _secret_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -base64 48`)")
        return value

    @field_validator("database_url", "analytics_database_url", mode="before")
    @classmethod
    def _database_url_is_postgres(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not text.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL, e.g. postgresql://user:password@host:5432/dbname")
        try:
            _ = urlsplit(text).port  # raises ValueError for a port that is not a number
        except ValueError as exc:
            raise ValueError(f"is not a valid PostgreSQL URL ({str(exc).strip()})") from None
        return text



def environment_variables() -> dict[str, str]:
    """Each setting's environment variable, by field name: what `.env.example` and the compose files document."""
    names = {}
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, str):
            names[field_name] = alias
        elif isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            names[field_name] = alias.choices[0]
        else:
            names[field_name] = field_name.upper()
    return names
