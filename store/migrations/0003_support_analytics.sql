-- Support history (the tickets the old n8n pipeline and the new platform handle) and the tables
-- the analytics layer reads. Categories are spelled as in schemas/categories.py.

CREATE DOMAIN support_category AS text CHECK (VALUE IN ('general_question', 'shipping_inquiry',
    'change_address', 'change_frequency', 'skip_month', 'damaged_item', 'payment_issue',
    'pause_subscription', 'cancel_subscription', 'other'));

CREATE TABLE support_threads_data (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id           text NOT NULL UNIQUE,
    customer_id         bigint REFERENCES customers (id) ON DELETE SET NULL,
    customer_email      text NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('email', 'web_widget', 'whatsapp', 'facebook', 'telegram', 'sms')),
    category            support_category NOT NULL,
    secondary_category  support_category,
    urgency             text NOT NULL CHECK (urgency IN ('low', 'medium', 'high', 'critical')),
    language            text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    country_code        char(2) CHECK (country_code ~ '^[A-Z]{2}$'),
    subject             text NOT NULL,
    status              text NOT NULL CHECK (status IN ('new', 'ai_answered', 'draft_created', 'sent', 'escalated', 'closed')),
    handled_by          text CHECK (handled_by IN ('ai', 'ai_edited', 'human')),
    ai_model            text,
    ai_cost_usd         numeric(10, 6) CHECK (ai_cost_usd >= 0),
    ai_answer           text,
    human_answer        text,
    human_approved      boolean NOT NULL DEFAULT false,
    rating              smallint CHECK (rating BETWEEN 1 AND 5),
    created_at          timestamptz NOT NULL,
    ai_answered_at      timestamptz,
    draft_created_at    timestamptz,
    first_response_at   timestamptz,
    resolved_at         timestamptz,
    CHECK (secondary_category IS DISTINCT FROM category),
    CONSTRAINT ai_answer_after_creation CHECK (ai_answered_at IS NULL OR ai_answered_at >= created_at),
    CONSTRAINT draft_needs_ai_answer CHECK (draft_created_at IS NULL OR ai_answered_at IS NOT NULL),
    CONSTRAINT response_after_creation CHECK (first_response_at IS NULL OR first_response_at >= created_at),
    CONSTRAINT resolved_after_creation CHECK (resolved_at IS NULL OR resolved_at >= created_at),
    CONSTRAINT answered_has_handler CHECK (first_response_at IS NULL OR handled_by IS NOT NULL),
    CONSTRAINT new_is_untouched CHECK (status <> 'new' OR (ai_answered_at IS NULL AND first_response_at IS NULL))
);
CREATE INDEX support_threads_created_idx ON support_threads_data (created_at);
CREATE INDEX support_threads_category_created_idx ON support_threads_data (category, created_at);
CREATE INDEX support_threads_customer_idx ON support_threads_data (customer_id);

CREATE TABLE support_dialogs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES support_threads_data (id) ON DELETE CASCADE,
    seq        smallint NOT NULL CHECK (seq >= 1),
    role       text NOT NULL CHECK (role IN ('customer', 'ai', 'human')),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
    created_at timestamptz NOT NULL,
    UNIQUE (ticket_id, seq)
);

CREATE TABLE ai_human_comparison (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id    bigint NOT NULL UNIQUE REFERENCES support_threads_data (id) ON DELETE CASCADE,
    category     support_category NOT NULL,
    ai_answer    text NOT NULL,
    human_answer text NOT NULL,
    similarity   real NOT NULL CHECK (similarity BETWEEN 0 AND 1),
    verdict      text NOT NULL CHECK (verdict IN ('ai_better', 'equivalent', 'human_better')),
    evaluated_at timestamptz NOT NULL
);

CREATE TABLE ai_agent_tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES support_threads_data (id) ON DELETE CASCADE,
    category    support_category NOT NULL,
    task_type   text NOT NULL CHECK (task_type IN ('identify_customer', 'track_shipment', 'pause_subscription',
        'resume_subscription', 'skip_month', 'change_frequency', 'change_address', 'create_damage_claim',
        'request_photos', 'propose_resolution', 'create_cancel_link', 'cancel_subscription',
        'report_missing_package', 'search_knowledge', 'handoff')),
    status      text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at  timestamptz NOT NULL,
    finished_at timestamptz,
    duration_ms integer CHECK (duration_ms >= 0),
    error       text,
    CONSTRAINT finished_when_done CHECK ((status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT failure_has_error CHECK ((status = 'failed') = (error IS NOT NULL)),
    CHECK (finished_at IS NULL OR finished_at >= created_at)
);
CREATE INDEX ai_agent_tasks_ticket_idx ON ai_agent_tasks (ticket_id);
CREATE INDEX ai_agent_tasks_created_idx ON ai_agent_tasks (created_at);

-- Category rules, versioned: a new version is a new row; exactly one version is active per category.
CREATE TABLE ai_answerer_instructions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category     support_category NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    instructions text NOT NULL CHECK (length(btrim(instructions)) BETWEEN 20 AND 20000),
    is_active    boolean NOT NULL DEFAULT false,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (category, version)
);
CREATE UNIQUE INDEX ai_answerer_instructions_one_active_idx ON ai_answerer_instructions (category) WHERE is_active;

-- What the analytics agent got wrong once and how it was fixed, to ground later answers.
CREATE TABLE analytics_learnings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question   text NOT NULL CHECK (length(btrim(question)) BETWEEN 1 AND 2000),
    mistake    text NOT NULL CHECK (length(btrim(mistake)) BETWEEN 1 AND 4000),
    fix        text NOT NULL CHECK (length(btrim(fix)) BETWEEN 1 AND 4000),
    sql        text,
    tags       text[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
