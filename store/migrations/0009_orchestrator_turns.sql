-- What the orchestrator needs to run a conversation from any replica: the caller's ids of conversations and
-- messages (a retried message replays its stored answer), the conversation's working state, each turn's full
-- answer, and the actions waiting for the customer's yes.

ALTER TABLE conversations
    ADD COLUMN external_id text UNIQUE CHECK (external_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
    ADD COLUMN state jsonb NOT NULL DEFAULT '{}'::jsonb;

ALTER TABLE messages
    ADD COLUMN external_id text CHECK (external_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
    ADD CONSTRAINT messages_one_per_external_id UNIQUE (conversation_id, external_id);

-- Nothing wrote turns before this migration; the gate's vocabulary is auto_send | draft | escalate.
ALTER TABLE turns DROP CONSTRAINT turns_decision_check;
ALTER TABLE turns
    ADD CONSTRAINT turns_decision_check CHECK (decision IN ('auto_send', 'draft', 'escalate')),
    ADD COLUMN reasons text[] NOT NULL DEFAULT '{}',
    ADD COLUMN response jsonb,
    ADD COLUMN trace_id text;

CREATE TABLE pending_actions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    customer_id      bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    category         support_category NOT NULL,
    server           text NOT NULL,
    tool             text NOT NULL,
    arguments        jsonb NOT NULL,
    summary          text NOT NULL,
    -- The server's single-use confirmation token, sealed (AES-256-GCM): a database reader cannot use it.
    sealed_token     text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'confirmed', 'declined', 'expired', 'failed')),
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz,
    CONSTRAINT resolved_has_time CHECK ((status = 'pending') = (resolved_at IS NULL))
);
-- One question at a time: a conversation waits for at most one yes.
CREATE UNIQUE INDEX pending_actions_one_open_idx ON pending_actions (conversation_id) WHERE status = 'pending';
