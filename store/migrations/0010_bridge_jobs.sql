-- The Chatwoot bridge: one durable job per customer message (or button press) it owes an answer to, what it last
-- heard about each conversation, and Chatwoot's echoes of the bot's own posts.

CREATE TABLE bridge_jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The Chatwoot message (or button answer) this job answers: a redelivered or replayed webhook finds it taken.
    dedupe_key       text NOT NULL UNIQUE,
    -- X-Chatwoot-Delivery, stable across Chatwoot's own retries.
    delivery_id      text UNIQUE,
    account_id       bigint NOT NULL,
    conversation_id  bigint NOT NULL,  -- Chatwoot's display id
    request          jsonb NOT NULL,  -- the TurnRequest sent to the orchestrator
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_after        timestamptz NOT NULL DEFAULT now(),
    -- A worker holds a running job while lease_until is in the future; the token fences out a worker that lost it.
    lease_token      uuid,
    lease_until      timestamptz,
    response         jsonb,  -- the orchestrator's answer
    plan             jsonb,  -- the Chatwoot actions, fixed once computed
    steps_done       integer NOT NULL DEFAULT 0 CHECK (steps_done >= 0),
    -- When the action steps_done was last started without being recorded done: its outcome is unknown until
    -- Chatwoot's echo shows whether it landed.
    step_started_at  timestamptz,
    outcome          text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CONSTRAINT running_has_lease CHECK ((state = 'running') = (lease_token IS NOT NULL AND lease_until IS NOT NULL)),
    CONSTRAINT finished_has_time CHECK ((state IN ('done', 'dead')) = (finished_at IS NOT NULL))
);
-- Workers look for the oldest unfinished job, and for earlier unfinished jobs of the same conversation.
CREATE INDEX bridge_jobs_unfinished_idx ON bridge_jobs (id) WHERE state IN ('queued', 'running');
CREATE INDEX bridge_jobs_conversation_idx ON bridge_jobs (account_id, conversation_id, id)
    WHERE state IN ('queued', 'running');
CREATE INDEX bridge_jobs_dead_idx ON bridge_jobs (id) WHERE state = 'dead';

CREATE TABLE bridge_conversations (
    account_id       bigint NOT NULL,
    conversation_id  bigint NOT NULL,
    -- Chatwoot's word as it came (open, pending, resolved, snoozed): not checked, a new Chatwoot may add one.
    status           text NOT NULL CHECK (length(status) <= 32),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversation_id)
);

CREATE TABLE bridge_echoes (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id           bigint NOT NULL,
    conversation_id      bigint NOT NULL,
    chatwoot_message_id  bigint NOT NULL,
    fingerprint          text NOT NULL,
    received_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, chatwoot_message_id)
);
CREATE INDEX bridge_echoes_lookup_idx ON bridge_echoes (account_id, conversation_id, fingerprint, received_at);
