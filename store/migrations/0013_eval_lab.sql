-- The eval lab (issue 15): experiments that replay a dataset of past tickets through the orchestrator under
-- several configurations, every answer's scores, and who promoted which version of a category's rules, when, why.

CREATE TABLE eval_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_key      text NOT NULL UNIQUE CHECK (run_key ~ '^[A-Za-z0-9._-]{1,64}$'),
    dataset      text NOT NULL CHECK (length(dataset) BETWEEN 1 AND 500),
    items        integer NOT NULL CHECK (items >= 0),
    -- Per config: its name, source file, the models per category and the rule versions it ran with.
    configs      jsonb NOT NULL CHECK (jsonb_typeof(configs) = 'array'),
    cost_cap_usd numeric(10, 4) CHECK (cost_cap_usd >= 0),
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'capped', 'failed')),
    created_by   text NOT NULL CHECK (length(btrim(created_by)) BETWEEN 1 AND 200),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    summary      jsonb,
    report_html  text,
    CONSTRAINT finished_has_time CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE TABLE eval_results (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id            bigint NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    config            text NOT NULL CHECK (length(config) BETWEEN 1 AND 100),
    item_id           text NOT NULL CHECK (length(item_id) BETWEEN 1 AND 200),
    expected_category support_category NOT NULL,
    category          support_category,
    decision          text CHECK (decision IN ('auto_send', 'draft', 'escalate')),
    reply             text,
    proposed          jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(proposed) = 'array'),
    scores            jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(scores) = 'object'),
    cost_usd          numeric(10, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    latency_ms        integer CHECK (latency_ms >= 0),
    trace_id          text,
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, config, item_id)
);

-- Making a rules version the active one is a decision someone takes, with a reason, ideally after an experiment.
CREATE TABLE rule_promotions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category     support_category NOT NULL,
    from_version integer,
    to_version   integer NOT NULL,
    promoted_by  text NOT NULL CHECK (length(btrim(promoted_by)) BETWEEN 1 AND 200),
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 2000),
    eval_run_id  bigint REFERENCES eval_runs (id) ON DELETE SET NULL,
    promoted_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (from_version IS DISTINCT FROM to_version),
    FOREIGN KEY (category, to_version) REFERENCES ai_answerer_instructions (category, version)
);
CREATE INDEX rule_promotions_category_idx ON rule_promotions (category, promoted_at DESC);
