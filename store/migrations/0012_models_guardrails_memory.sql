-- Models, guardrails, customer memory and learning from staff corrections (issue 13).

-- What a turn cost, per model (router, brain, fallback, judge), and what a guardrail stopped. `cost_usd` (0002)
-- stays the turn's total; `usage` is its breakdown, so `levhaolam costs` can group by model.
ALTER TABLE turns
    ADD COLUMN usage jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(usage) = 'array'),
    ADD COLUMN guard jsonb CHECK (guard IS NULL OR jsonb_typeof(guard) = 'object');
CREATE INDEX turns_created_idx ON turns (created_at);

-- Customer memory (0002 created the table; nothing wrote it). `key` names what a row is about, so a preference is
-- replaced rather than repeated and a retention offer is recorded once: one row per customer, kind and key.
ALTER TABLE customer_memories
    ADD COLUMN key text CHECK (key ~ '^[a-z0-9_:.-]{1,120}$'),
    ADD COLUMN category support_category,
    ADD COLUMN data jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(data) = 'object'),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX customer_memories_one_per_key_idx ON customer_memories (customer_id, kind, key)
    WHERE key IS NOT NULL;

-- What staff changed in an AI draft before sending it, kept as a lesson for the category. The texts are stored with
-- personal data replaced by placeholders: a lesson is shown to the model in other customers' conversations.
CREATE TABLE category_learnings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category        support_category NOT NULL,
    language        text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    conversation_id bigint REFERENCES conversations (id) ON DELETE SET NULL,
    turn_id         bigint REFERENCES turns (id) ON DELETE SET NULL,
    draft           text NOT NULL CHECK (length(draft) BETWEEN 1 AND 8000),
    sent_text       text NOT NULL CHECK (length(sent_text) BETWEEN 1 AND 8000),
    lesson          text NOT NULL CHECK (length(lesson) BETWEEN 1 AND 4000),
    change_ratio    real NOT NULL CHECK (change_ratio BETWEEN 0 AND 1),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    auto_accepted   boolean NOT NULL DEFAULT false,
    policy_note     text NOT NULL DEFAULT '',
    staff           text NOT NULL CHECK (length(btrim(staff)) BETWEEN 1 AND 200),
    reviewed_by     text CHECK (reviewed_by IS NULL OR length(btrim(reviewed_by)) BETWEEN 1 AND 200),
    reviewed_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    search          tsvector GENERATED ALWAYS AS (to_tsvector('simple', draft || ' ' || sent_text)) STORED,
    CONSTRAINT reviewed_has_reviewer CHECK ((status = 'pending') = (reviewed_at IS NULL AND reviewed_by IS NULL)),
    CONSTRAINT auto_is_approved CHECK (NOT auto_accepted OR status <> 'pending')
);
CREATE INDEX category_learnings_category_idx ON category_learnings (category, status, created_at DESC);
CREATE INDEX category_learnings_search_idx ON category_learnings USING gin (search);
-- The bridge may post the same correction twice (a retried webhook): it is one learning.
CREATE UNIQUE INDEX category_learnings_once_idx ON category_learnings (conversation_id, md5(draft), md5(sent_text));
