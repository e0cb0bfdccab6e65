-- Live conversations and the machinery of safe actions: audit log, idempotency, confirmations,
-- and what we remember about customers.

CREATE TABLE conversations (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chatwoot_conversation_id bigint UNIQUE,
    channel                  text NOT NULL CHECK (channel IN ('web_widget', 'whatsapp', 'facebook', 'email',
                                                              'telegram', 'sms', 'api')),
    customer_id              bigint REFERENCES customers (id) ON DELETE SET NULL,
    status                   text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'handed_off', 'resolved')),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_customer_idx ON conversations (customer_id);

CREATE TABLE messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id     bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction           text NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    author              text NOT NULL CHECK (author IN ('customer', 'ai', 'human', 'system')),
    body                text NOT NULL CHECK (length(body) <= 100000),
    chatwoot_message_id bigint UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_writes_incoming CHECK ((author = 'customer') = (direction = 'incoming'))
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at);

CREATE TABLE turns (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id         bigint NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
    primary_category   text NOT NULL CHECK (primary_category IN ('general_question', 'shipping_inquiry',
        'change_address', 'change_frequency', 'skip_month', 'damaged_item', 'payment_issue',
        'pause_subscription', 'cancel_subscription', 'other')),
    secondary_category text CHECK (secondary_category IN ('general_question', 'shipping_inquiry',
        'change_address', 'change_frequency', 'skip_month', 'damaged_item', 'payment_issue',
        'pause_subscription', 'cancel_subscription', 'other')),
    urgency            text NOT NULL CHECK (urgency IN ('low', 'medium', 'high', 'critical')),
    confidence         real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    decision           text CHECK (decision IN ('auto_send', 'draft', 'handoff')),
    model              text,
    latency_ms         integer CHECK (latency_ms >= 0),
    cost_usd           numeric(10, 6) CHECK (cost_usd >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (secondary_category IS DISTINCT FROM primary_category)
);

-- Append-only: every executed action and every refused attempt. A trigger refuses UPDATE,
-- DELETE and TRUNCATE, so even the application's own role cannot rewrite history.
CREATE TABLE action_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    caller          text NOT NULL CHECK (length(caller) BETWEEN 1 AND 200),
    scope           text NOT NULL,
    server          text NOT NULL,
    tool            text NOT NULL,
    customer_id     bigint,
    conversation_id text,
    arguments       jsonb NOT NULL DEFAULT '{}'::jsonb,
    outcome         text NOT NULL CHECK (outcome IN ('executed', 'refused', 'confirmation_requested', 'replayed')),
    error_code      text,
    result          jsonb,
    CONSTRAINT refused_has_code CHECK ((outcome = 'refused') = (error_code IS NOT NULL))
);
CREATE INDEX action_audit_customer_idx ON action_audit (customer_id, occurred_at);
CREATE INDEX action_audit_tool_idx ON action_audit (tool, occurred_at);

CREATE FUNCTION action_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'action_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER action_audit_no_update BEFORE UPDATE OR DELETE ON action_audit
    FOR EACH ROW EXECUTE FUNCTION action_audit_is_append_only();
CREATE TRIGGER action_audit_no_truncate BEFORE TRUNCATE ON action_audit
    FOR EACH STATEMENT EXECUTE FUNCTION action_audit_is_append_only();

-- The first result of an action, replayed for a retry with the same key and arguments.
CREATE TABLE idempotency_keys (
    tool           text NOT NULL,
    key            text NOT NULL CHECK (key ~ '^[A-Za-z0-9._:-]{8,128}$'),
    customer_id    bigint NOT NULL,
    arguments_hash text NOT NULL CHECK (arguments_hash ~ '^[0-9a-f]{64}$'),
    result         jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tool, key)
);

-- Single-use confirmation tokens. Only a hash of the token is stored: a database reader cannot
-- confirm an action on a customer's behalf.
CREATE TABLE pending_confirmations (
    token_hash      text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    customer_id     bigint NOT NULL,
    tool            text NOT NULL,
    arguments_hash  text NOT NULL CHECK (arguments_hash ~ '^[0-9a-f]{64}$'),
    arguments       jsonb NOT NULL,
    summary         text NOT NULL,
    caller          text NOT NULL,
    conversation_id text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    CHECK (expires_at > created_at),
    CHECK (used_at IS NULL OR used_at >= created_at)
);
CREATE INDEX pending_confirmations_expiry_idx ON pending_confirmations (expires_at) WHERE used_at IS NULL;

CREATE TABLE customer_memories (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id            bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind                   text NOT NULL CHECK (kind IN ('preference', 'fact', 'complaint', 'retention')),
    content                text NOT NULL CHECK (length(btrim(content)) BETWEEN 1 AND 2000),
    source_conversation_id bigint REFERENCES conversations (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_memories_customer_idx ON customer_memories (customer_id, created_at DESC);
