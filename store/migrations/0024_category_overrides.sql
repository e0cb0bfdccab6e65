-- Staff's overrides of the reviewed orchestrator/categories.toml, one row per category (issue 11). `settings` is a
-- partial category table (e.g. {"model": "...", "gate": {"mode": "draft"}}); the orchestrator merges it over the
-- file and validates the result at start, and refuses to start on an override it cannot apply. What may be
-- overridden (never a tool the file does not allow) is decided in orchestrator/categories.py, not here.
CREATE TABLE category_overrides (
    category   support_category PRIMARY KEY,
    settings   jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    changed_by text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 200),
    changed_at timestamptz NOT NULL DEFAULT now()
);
