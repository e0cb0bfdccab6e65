-- Rollups for the saved analytics queries that 0011's counts cannot answer (issue 14): response-time percentiles
-- and messages per ticket. Same shape as 0011: 'hour' and 'day' rows, kept exact by triggers in the transaction
-- that changes a ticket or a message, rebuilt by support_detail_rollups_rebuild(), read in pieces over
-- support_window_bounds() (whole days, whole hours, raw rows of the partial hours). Bodies are strings, as in 0011.

-- ------------------------------------------------------------------------------------------------ response times
-- Exact percentiles cannot be added up, and the response times have microsecond resolution (nearly every one is
-- distinct), so a histogram at that resolution would be as large as the tickets. Instead each response time falls
-- in a band: its microseconds rounded down to two significant digits (2.5 s → 2,500,000; 17,345 s → 17,000 s),
-- about 90 bands a decade, in integer arithmetic so that bands are ordered exactly as the values are. The rollup
-- counts tickets per band; a percentile finds the band holding its rank from the cumulative counts and reads only
-- that band's tickets of the window (support_threads_response_band_idx), so the value is the raw query's own.
CREATE FUNCTION support_two_digits(n bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT n / power(10, greatest(length(n::text) - 2, 0))::bigint * power(10, greatest(length(n::text) - 2, 0))::bigint $$;
-- One expression (no FROM), so that the planner inlines it into queries and into the index.
CREATE FUNCTION support_response_band(responded timestamptz, created timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT support_two_digits((extract(epoch FROM responded - created) * 1000000)::bigint) $$;

CREATE INDEX support_threads_response_band_idx
    ON support_threads_data (handled_by, support_response_band(first_response_at, created_at), created_at)
    INCLUDE (first_response_at) WHERE first_response_at IS NOT NULL;

-- Answered tickets (first_response_at set, so handled_by is too: answered_has_handler) per hour or day of arrival,
-- handler and band.
CREATE TABLE support_response_rollup (
    grain      text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket     timestamptz NOT NULL,
    handled_by text NOT NULL,
    band       bigint NOT NULL,
    tickets    bigint NOT NULL,
    PRIMARY KEY (grain, bucket, handled_by, band)
);
CREATE INDEX support_response_rollup_empty ON support_response_rollup (grain) WHERE tickets = 0;

-- ------------------------------------------------------------------------------------------------ messages
-- Tickets and their messages (support_dialogs) by role, per hour or day of the ticket's arrival, category, channel
-- and handler: everything conversation_messages groups or filters by.
CREATE TABLE support_message_rollup (
    grain             text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket            timestamptz NOT NULL,
    category          support_category NOT NULL,
    channel           text NOT NULL,
    handled_by        text,
    tickets           bigint NOT NULL,
    customer_messages bigint NOT NULL,
    ai_messages       bigint NOT NULL,
    human_messages    bigint NOT NULL
);
CREATE UNIQUE INDEX support_message_rollup_key ON support_message_rollup (grain, bucket, category, channel, handled_by)
    NULLS NOT DISTINCT;
CREATE INDEX support_message_rollup_empty ON support_message_rollup (grain) WHERE tickets = 0;

-- ------------------------------------------------------------------------------------------------ keeping them
-- `changes`: one element per counted thing, {sign, ticket: the ticket row, tickets: 1 for the ticket itself or 0
-- for a message of it, customer/ai/human: its messages}. Sorted keys lock rows in one order (no deadlocks).
CREATE FUNCTION support_detail_rollups_apply(changes jsonb) RETURNS void
    LANGUAGE sql
    AS $$
        WITH c AS (
            SELECT (x ->> 'sign')::int AS sign, (x ->> 'tickets')::int AS tickets, (x ->> 'customer')::int AS customer,
                   (x ->> 'ai')::int AS ai, (x ->> 'human')::int AS human, t.*
            FROM jsonb_array_elements(changes) AS x,
                 jsonb_populate_record(NULL::support_threads_data, x -> 'ticket') AS t
        ), g AS (
            SELECT g.grain, date_trunc(g.grain, c.created_at, 'UTC') AS bucket, c.*
            FROM c CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        ), responses AS (
            INSERT INTO support_response_rollup AS r
            SELECT grain, bucket, handled_by, support_response_band(first_response_at, created_at), sum(sign * tickets)
            FROM g WHERE first_response_at IS NOT NULL AND tickets <> 0
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (grain, bucket, handled_by, band) DO UPDATE SET tickets = r.tickets + excluded.tickets
        )
        INSERT INTO support_message_rollup AS r
        SELECT grain, bucket, category, channel, handled_by, sum(sign * tickets), sum(sign * customer),
               sum(sign * ai), sum(sign * human)
        FROM g GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (grain, bucket, category, channel, handled_by) DO UPDATE SET
            tickets = r.tickets + excluded.tickets, customer_messages = r.customer_messages + excluded.customer_messages,
            ai_messages = r.ai_messages + excluded.ai_messages, human_messages = r.human_messages + excluded.human_messages;
        DELETE FROM support_response_rollup WHERE tickets = 0;
        DELETE FROM support_message_rollup WHERE tickets = 0;
$$;
REVOKE EXECUTE ON FUNCTION support_detail_rollups_apply(jsonb) FROM PUBLIC;

-- A ticket as a change: itself with all its messages.
CREATE FUNCTION support_ticket_change(sign int, ticket support_threads_data) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        SELECT jsonb_build_object('sign', sign, 'ticket', to_jsonb(ticket), 'tickets', 1,
                                  'customer', count(*) FILTER (WHERE d.role = 'customer'),
                                  'ai', count(*) FILTER (WHERE d.role = 'ai'),
                                  'human', count(*) FILTER (WHERE d.role = 'human'))
        FROM support_dialogs d WHERE d.ticket_id = ticket.id
    $$;

-- A message as a change of its ticket's counts (none if the ticket is gone: its delete already subtracted it).
CREATE FUNCTION support_message_change(sign int, message support_dialogs) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        SELECT jsonb_build_object('sign', sign, 'ticket', to_jsonb(t), 'tickets', 0,
                                  'customer', (message.role = 'customer')::int, 'ai', (message.role = 'ai')::int,
                                  'human', (message.role = 'human')::int)
        FROM support_threads_data t WHERE t.id = message.ticket_id
    $$;

CREATE FUNCTION support_tickets_detailed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- Old and new rows in one call: a ticket that did not move nets to nothing before any row is written.
    IF TG_OP = 'UPDATE' THEN
        PERFORM support_detail_rollups_apply(coalesce((
            SELECT jsonb_agg(x) FROM (SELECT support_ticket_change(-1, o) AS x FROM old_rows o
                                      UNION ALL SELECT support_ticket_change(1, n) FROM new_rows n) AS s), '[]'));
    ELSE
        PERFORM support_detail_rollups_apply(coalesce((
            SELECT jsonb_agg(support_ticket_change(1, n)) FROM new_rows n), '[]'));
    END IF;
    RETURN NULL;
END
$$;

-- Before the row goes, while its messages are still there (ON DELETE CASCADE removes them after).
CREATE FUNCTION support_ticket_detail_deleted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM support_detail_rollups_apply(jsonb_build_array(support_ticket_change(-1, OLD)));
    RETURN OLD;
END
$$;

CREATE FUNCTION support_messages_detailed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM support_detail_rollups_apply(coalesce((
            SELECT jsonb_agg(x) FROM (SELECT support_message_change(-1, o) AS x FROM old_rows o) AS s
            WHERE x IS NOT NULL), '[]'));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM support_detail_rollups_apply(coalesce((
            SELECT jsonb_agg(x) FROM (SELECT support_message_change(1, n) AS x FROM new_rows n) AS s
            WHERE x IS NOT NULL), '[]'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_tickets_detail_inserted AFTER INSERT ON support_threads_data
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tickets_detailed();
CREATE TRIGGER support_tickets_detail_updated AFTER UPDATE ON support_threads_data
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_tickets_detailed();
CREATE TRIGGER support_tickets_detail_deleted BEFORE DELETE ON support_threads_data
    FOR EACH ROW EXECUTE FUNCTION support_ticket_detail_deleted();
CREATE TRIGGER support_messages_inserted AFTER INSERT ON support_dialogs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_messages_detailed();
CREATE TRIGGER support_messages_updated AFTER UPDATE ON support_dialogs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_messages_detailed();
CREATE TRIGGER support_messages_deleted AFTER DELETE ON support_dialogs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_messages_detailed();

CREATE FUNCTION support_detail_rollups_rebuild() RETURNS void
    LANGUAGE sql
    AS $$
        DELETE FROM support_response_rollup;
        INSERT INTO support_response_rollup
        SELECT g.grain, date_trunc(g.grain, s.created_at, 'UTC'), s.handled_by,
               support_response_band(s.first_response_at, s.created_at), count(*)
        FROM support_threads_data s CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        WHERE s.first_response_at IS NOT NULL
        GROUP BY 1, 2, 3, 4;
        DELETE FROM support_message_rollup;
        INSERT INTO support_message_rollup
        SELECT g.grain, date_trunc(g.grain, s.created_at, 'UTC'), s.category, s.channel, s.handled_by, count(*),
               coalesce(sum(m.customer), 0), coalesce(sum(m.ai), 0), coalesce(sum(m.human), 0)
        FROM support_threads_data s
             LEFT JOIN (SELECT ticket_id, count(*) FILTER (WHERE role = 'customer') AS customer,
                               count(*) FILTER (WHERE role = 'ai') AS ai, count(*) FILTER (WHERE role = 'human') AS human
                        FROM support_dialogs GROUP BY ticket_id) AS m ON m.ticket_id = s.id
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3, 4, 5;
$$;
REVOKE EXECUTE ON FUNCTION support_detail_rollups_rebuild() FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------ windows
-- Messages of a window's tickets, as rows of support_message_rollup's shape (grain and bucket left out).
CREATE FUNCTION support_message_window(window_start timestamptz, window_end timestamptz)
    RETURNS TABLE (category text, channel text, handled_by text, tickets bigint, customer_messages bigint,
                   ai_messages bigint, human_messages bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT r.category::text, r.channel, r.handled_by, r.tickets, r.customer_messages, r.ai_messages, r.human_messages
    FROM support_message_rollup r
    WHERE (r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
       OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1)))
    UNION ALL
    SELECT s.category::text, s.channel, s.handled_by, count(*), coalesce(sum(m.customer), 0)::bigint,
           coalesce(sum(m.ai), 0)::bigint, coalesce(sum(m.human), 0)::bigint
    FROM support_threads_data s
         CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE d.role = 'customer') AS customer,
                                    count(*) FILTER (WHERE d.role = 'ai') AS ai,
                                    count(*) FILTER (WHERE d.role = 'human') AS human
                             FROM support_dialogs d WHERE d.ticket_id = s.id) AS m
    WHERE (s.created_at >= window_start AND s.created_at < b.h0)
       OR (s.created_at >= b.h1 AND s.created_at < window_end)
    GROUP BY 1, 2, 3;
END
$$;

-- percentile_cont(f) of the first response times (seconds) of a window's answered tickets, per handler, exactly
-- as the aggregate computes it: the values at ranks floor and ceil of f x (n - 1), interpolated in float8 in the
-- same order of operations. The ranks are found in the rolled-up band counts; only their bands' rows are read.
CREATE FUNCTION support_response_percentiles(window_start timestamptz, window_end timestamptz, fractions float8[])
    RETURNS TABLE (handled_by text, answered bigint, fraction float8, seconds float8)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    WITH pieces AS (
        SELECT r.handled_by, r.band, r.tickets FROM support_response_rollup r
        WHERE (r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
           OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1)))
        UNION ALL
        SELECT s.handled_by, support_response_band(s.first_response_at, s.created_at), count(*)
        FROM support_threads_data s
        WHERE s.first_response_at IS NOT NULL
          AND ((s.created_at >= window_start AND s.created_at < b.h0)
               OR (s.created_at >= b.h1 AND s.created_at < window_end))
        GROUP BY 1, 2
    ), bands AS (
        SELECT p.handled_by, p.band, sum(p.tickets)::bigint AS n FROM pieces p GROUP BY 1, 2
    ), cumulative AS (
        SELECT d.handled_by, d.band, d.n,
               (sum(d.n) OVER (PARTITION BY d.handled_by ORDER BY d.band) - d.n)::bigint AS before,
               (sum(d.n) OVER (PARTITION BY d.handled_by))::bigint AS total
        FROM bands d
    ), wanted AS (
        SELECT DISTINCT c.handled_by, c.total, f.fraction, f.fraction * (c.total - 1)::float8 AS pos
        FROM cumulative c CROSS JOIN unnest(fractions) AS f (fraction)
    ), ranked AS MATERIALIZED (  -- each rank read once, not once per reference
        SELECT w.*, (SELECT v.seconds FROM (
                        SELECT extract(epoch FROM s.first_response_at - s.created_at)::float8 AS seconds
                        FROM support_threads_data s
                        WHERE s.handled_by = c.handled_by AND s.first_response_at IS NOT NULL
                          AND support_response_band(s.first_response_at, s.created_at) = c.band
                          AND s.created_at >= window_start AND s.created_at < window_end
                        ORDER BY 1 OFFSET k.rank - c.before LIMIT 1) AS v) AS seconds, k.upper
        FROM wanted w
        CROSS JOIN LATERAL (VALUES (floor(w.pos)::bigint, false), (ceil(w.pos)::bigint, true)) AS k (rank, upper)
        JOIN cumulative c ON c.handled_by = w.handled_by AND k.rank >= c.before AND k.rank < c.before + c.n
    )
    -- float8_lerp: lo + (proportion x (hi - lo)), proportion = pos - first_row.
    SELECT r.handled_by, r.total, r.fraction,
           CASE WHEN ceil(r.pos) > floor(r.pos)
                THEN min(r.seconds) FILTER (WHERE NOT r.upper)
                     + ((r.pos - floor(r.pos)) * (min(r.seconds) FILTER (WHERE r.upper)
                                                  - min(r.seconds) FILTER (WHERE NOT r.upper)))
                ELSE min(r.seconds) FILTER (WHERE NOT r.upper) END
    FROM ranked r
    GROUP BY r.handled_by, r.total, r.fraction, r.pos;
END
$$;

GRANT SELECT ON support_response_rollup, support_message_rollup TO levhaolam_analytics;

SELECT support_detail_rollups_rebuild();
