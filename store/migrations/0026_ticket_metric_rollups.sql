-- Rollups for ticket_metrics (issue 14), the general question tool's ticket figures: with no filter, and no grouping
-- or one by day, week or month, it reads these instead of the raw tables (4.2 s over 90 days at 1M tickets before;
-- a grouping by day, week or month is a window per day, week or month). Exact, as the raw query:
-- counts and sums per UTC hour and day, the distinct customers as per-hour bitmaps of customer ids OR-ed together,
-- the three medians by the band technique of 0015, the hand-off flag from the latest hand-off task per ticket.
-- Same shape as 0011: kept by triggers in the transaction of the change, rebuilt by
-- support_metric_rollups_rebuild() (hours from the raw rows, days added up from the hours, as 0025), read over
-- support_window_bounds() (whole days, whole hours, the raw rows of the partial hours). Bodies are strings.

-- ------------------------------------------------------------------------------------------------ hand-offs
-- Per ticket with a hand-off task: when its latest one started, and when the ticket arrived. ticket_metrics counts
-- a ticket as handed off when a hand-off task of it started at or after the period's start; one that started at or
-- after the ticket's arrival always did (the rollup's flag). A hand-off before its ticket's arrival does not happen
-- in practice, but the raw query counts it when it is in the period: those few are found by their own index.
CREATE TABLE support_ticket_handoffs (
    ticket_id  bigint PRIMARY KEY,
    created_at timestamptz NOT NULL,  -- the ticket's
    last_at    timestamptz NOT NULL   -- its latest hand-off task's
);
CREATE INDEX support_ticket_handoffs_early_idx ON support_ticket_handoffs (created_at) INCLUDE (last_at)
    WHERE last_at < created_at;

-- ------------------------------------------------------------------------------------------------ counts and sums
-- One row per UTC hour and day of arrival: what ticket_metrics counts, and exact sums for its averages (the
-- durations as the numeric seconds the raw query averages, so that sum / count is its avg to the digit).
CREATE TABLE support_metric_rollup (
    grain          text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket         timestamptz NOT NULL,
    tickets        bigint NOT NULL,
    answered       bigint NOT NULL,  -- handled_by IS NOT NULL
    ai_handled     bigint NOT NULL,  -- handled_by = 'ai'
    ai_edited      bigint NOT NULL,  -- handled_by = 'ai_edited'
    human_handled  bigint NOT NULL,  -- handled_by = 'human'
    ai_answered    bigint NOT NULL,  -- ai_answered_at IS NOT NULL
    drafts         bigint NOT NULL,  -- draft_created_at IS NOT NULL
    handoffs       bigint NOT NULL,  -- a hand-off task at or after arrival
    resolved       bigint NOT NULL,  -- resolved_at IS NOT NULL
    rated          bigint NOT NULL,  -- rating IS NOT NULL
    rating_sum     bigint NOT NULL,
    low_ratings    bigint NOT NULL,  -- rating <= 2
    high_ratings   bigint NOT NULL,  -- rating >= 4
    responded      bigint NOT NULL,  -- first_response_at IS NOT NULL
    response_sum   numeric NOT NULL,  -- seconds from arrival to first response
    resolution_sum numeric NOT NULL,  -- ... to resolution
    ai_answer_sum  numeric NOT NULL,  -- ... to the AI's answer
    cost_count     bigint NOT NULL,  -- ai_cost_usd IS NOT NULL
    cost_sum       numeric NOT NULL,
    identified     bigint NOT NULL,  -- customer_id IS NOT NULL
    PRIMARY KEY (grain, bucket)
);
CREATE INDEX support_metric_rollup_empty ON support_metric_rollup (grain) WHERE tickets = 0;

-- ------------------------------------------------------------------------------------------------ medians
-- The three durations in the bands of 0015 (microseconds rounded down to two significant digits; the response
-- band is support_response_band's), counted per hour and day. A median finds its band from the cumulative counts
-- and reads that band's raw values of the period from an index: the response times from 0015's, the other two
-- from these.
CREATE TABLE support_duration_rollup (
    grain   text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket  timestamptz NOT NULL,
    measure text NOT NULL CHECK (measure IN ('response', 'resolution', 'ai_answer')),
    band    bigint NOT NULL,
    tickets bigint NOT NULL,
    -- A period's histogram from an index that holds it (index-only scans, one range per piece).
    PRIMARY KEY (grain, bucket, measure, band) INCLUDE (tickets)
);
CREATE INDEX support_duration_rollup_empty ON support_duration_rollup (grain) WHERE tickets = 0;

CREATE INDEX support_threads_resolution_band_idx
    ON support_threads_data (support_response_band(resolved_at, created_at), created_at) INCLUDE (resolved_at)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX support_threads_ai_answer_band_idx
    ON support_threads_data (support_response_band(ai_answered_at, created_at), created_at) INCLUDE (ai_answered_at)
    WHERE ai_answered_at IS NOT NULL;

-- ------------------------------------------------------------------------------------------------ customers
-- The distinct customers of an hour or day as a bitmap of their ids, in chunks of 8,192 ids (1 KB each, whatever
-- the largest id): a period's distinct customers are the bits set in the OR of its pieces' chunks. A ticket that
-- arrives sets its customer's bit; one that leaves an hour (deleted, moved, its customer changed) has its hour's
-- chunk computed again from the tickets, and the day's from its hours.
CREATE TABLE support_customer_rollup (
    grain     text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket    timestamptz NOT NULL,
    chunk     bigint NOT NULL,  -- customer_id >> 13
    customers bit varying NOT NULL,  -- bit customer_id & 8191 set: that customer had a ticket
    PRIMARY KEY (grain, bucket, chunk)
);

CREATE FUNCTION support_customer_bit(customer_id bigint) RETURNS bit varying
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT set_bit(0::bit(8192), (customer_id & 8191)::int, 1)::bit varying $$;

-- ------------------------------------------------------------------------------------------------ keeping them
-- `changes`: {sign, ticket: the ticket row, handoff: its flag}, a statement's old rows with -1 and new ones with +1.
-- Sorted keys lock rows in one order (no deadlocks); duration bands that net to nothing are not written. The
-- functions a trigger calls are PL/pgSQL: their plans are kept from one call to the next (a SQL function's are made
-- again at each, which cost more than the work for the one ticket of an ordinary write).
CREATE FUNCTION support_metric_rollups_apply(changes jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
    BEGIN
        WITH c AS (
            SELECT (x ->> 'sign')::int AS sign, (x ->> 'handoff')::boolean AS handed_off, t.*
            FROM jsonb_array_elements(changes) AS x,
                 jsonb_populate_record(NULL::support_threads_data, x -> 'ticket') AS t
        ), g AS (
            SELECT g.grain, date_trunc(g.grain, c.created_at, 'UTC') AS bucket, c.*
            FROM c CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        ), durations AS (
            INSERT INTO support_duration_rollup AS r
            SELECT g.grain, g.bucket, d.measure, d.band, sum(g.sign)
            FROM g CROSS JOIN LATERAL (VALUES
                ('response', support_response_band(g.first_response_at, g.created_at)),
                ('resolution', support_response_band(g.resolved_at, g.created_at)),
                ('ai_answer', support_response_band(g.ai_answered_at, g.created_at))) AS d (measure, band)
            WHERE d.band IS NOT NULL
            GROUP BY 1, 2, 3, 4 HAVING sum(g.sign) <> 0 ORDER BY 1, 2, 3, 4
            ON CONFLICT (grain, bucket, measure, band) DO UPDATE SET tickets = r.tickets + excluded.tickets
        )
        INSERT INTO support_metric_rollup AS r
        SELECT grain, bucket, sum(sign), sum(sign * (handled_by IS NOT NULL)::int),
               sum(sign * (handled_by IS NOT DISTINCT FROM 'ai')::int),
               sum(sign * (handled_by IS NOT DISTINCT FROM 'ai_edited')::int),
               sum(sign * (handled_by IS NOT DISTINCT FROM 'human')::int),
               sum(sign * (ai_answered_at IS NOT NULL)::int),
               sum(sign * (draft_created_at IS NOT NULL)::int), sum(sign * handed_off::int),
               sum(sign * (resolved_at IS NOT NULL)::int), sum(sign * (rating IS NOT NULL)::int),
               sum(sign * coalesce(rating, 0)), sum(sign * coalesce((rating <= 2)::int, 0)),
               sum(sign * coalesce((rating >= 4)::int, 0)), sum(sign * (first_response_at IS NOT NULL)::int),
               coalesce(sum(sign * extract(epoch FROM first_response_at - created_at)), 0),
               coalesce(sum(sign * extract(epoch FROM resolved_at - created_at)), 0),
               coalesce(sum(sign * extract(epoch FROM ai_answered_at - created_at)), 0),
               sum(sign * (ai_cost_usd IS NOT NULL)::int), coalesce(sum(sign * ai_cost_usd), 0),
               sum(sign * (customer_id IS NOT NULL)::int)
        FROM g GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (grain, bucket) DO UPDATE SET
            tickets = r.tickets + excluded.tickets, answered = r.answered + excluded.answered,
            ai_handled = r.ai_handled + excluded.ai_handled, ai_edited = r.ai_edited + excluded.ai_edited,
            human_handled = r.human_handled + excluded.human_handled,
            ai_answered = r.ai_answered + excluded.ai_answered,
            drafts = r.drafts + excluded.drafts, handoffs = r.handoffs + excluded.handoffs,
            resolved = r.resolved + excluded.resolved, rated = r.rated + excluded.rated,
            rating_sum = r.rating_sum + excluded.rating_sum, low_ratings = r.low_ratings + excluded.low_ratings,
            high_ratings = r.high_ratings + excluded.high_ratings, responded = r.responded + excluded.responded,
            response_sum = r.response_sum + excluded.response_sum,
            resolution_sum = r.resolution_sum + excluded.resolution_sum,
            ai_answer_sum = r.ai_answer_sum + excluded.ai_answer_sum, cost_count = r.cost_count + excluded.cost_count,
            cost_sum = r.cost_sum + excluded.cost_sum, identified = r.identified + excluded.identified;
        DELETE FROM support_duration_rollup WHERE tickets = 0;
        DELETE FROM support_metric_rollup WHERE tickets = 0;
    END
$$;
REVOKE EXECUTE ON FUNCTION support_metric_rollups_apply(jsonb) FROM PUBLIC;

-- A ticket as a change, with its hand-off flag as support_ticket_handoffs has it now.
CREATE FUNCTION support_metric_change(sign int, ticket support_threads_data) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        SELECT jsonb_build_object('sign', sign, 'ticket', to_jsonb(ticket), 'handoff', EXISTS (
            SELECT FROM support_ticket_handoffs h WHERE h.ticket_id = ticket.id AND h.last_at >= ticket.created_at))
    $$;

-- Customers' bits set for tickets that arrived (their created_at and customer_id).
CREATE FUNCTION support_customer_bits_add(created timestamptz[], customer_ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO support_customer_rollup AS r
        SELECT g.grain, date_trunc(g.grain, a.created_at, 'UTC'), a.customer_id >> 13,
               bit_or(support_customer_bit(a.customer_id))
        FROM unnest(created, customer_ids) AS a (created_at, customer_id)
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        WHERE a.customer_id IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (grain, bucket, chunk) DO UPDATE SET customers = r.customers | excluded.customers;
    END
$$;
REVOKE EXECUTE ON FUNCTION support_customer_bits_add(timestamptz[], bigint[]) FROM PUBLIC;

-- The chunks of tickets that left (their old created_at and customer_id) computed again: the hours' from the
-- tickets there now (a chunk no ticket holds any more has no row), then their days' from the hours.
CREATE FUNCTION support_customer_bits_recount(created timestamptz[], customer_ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    hours timestamptz[];
    chunks bigint[];
BEGIN
    SELECT array_agg(l.bucket ORDER BY l.bucket, l.chunk), array_agg(l.chunk ORDER BY l.bucket, l.chunk)
    INTO hours, chunks
    FROM (SELECT DISTINCT date_trunc('hour', a.created_at, 'UTC') AS bucket, a.customer_id >> 13 AS chunk
          FROM unnest(created, customer_ids) AS a (created_at, customer_id) WHERE a.customer_id IS NOT NULL) AS l;
    IF hours IS NULL THEN
        RETURN;
    END IF;
    -- Writers of the same chunks take turns: the rows are locked in key order (days before hours, as the upserts of
    -- support_customer_bits_add lock them), and each statement after sees what the others committed. A row that
    -- another writer creates meanwhile is OR-ed with, not overwritten.
    PERFORM 1 FROM support_customer_rollup r
    WHERE (r.grain, r.bucket, r.chunk) IN (
        SELECT 'day', date_trunc('day', l.bucket, 'UTC'), l.chunk FROM unnest(hours, chunks) AS l (bucket, chunk)
        UNION ALL
        SELECT 'hour', l.bucket, l.chunk FROM unnest(hours, chunks) AS l (bucket, chunk))
    ORDER BY r.grain, r.bucket, r.chunk
    FOR UPDATE;
    DELETE FROM support_customer_rollup r USING unnest(hours, chunks) AS l (bucket, chunk)
    WHERE r.chunk = l.chunk AND ((r.grain = 'hour' AND r.bucket = l.bucket)
                                 OR (r.grain = 'day' AND r.bucket = date_trunc('day', l.bucket, 'UTC')));
    INSERT INTO support_customer_rollup AS r
    SELECT 'hour', l.bucket, l.chunk, bit_or(support_customer_bit(s.customer_id))
    FROM unnest(hours, chunks) AS l (bucket, chunk)
         JOIN support_threads_data s ON s.created_at >= l.bucket AND s.created_at < l.bucket + interval '1 hour'
                                    AND s.customer_id >> 13 = l.chunk
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (grain, bucket, chunk) DO UPDATE SET customers = r.customers | excluded.customers;
    INSERT INTO support_customer_rollup AS t
    SELECT 'day', d.bucket, d.chunk, bit_or(r.customers)
    FROM (SELECT DISTINCT date_trunc('day', l.bucket, 'UTC') AS bucket, l.chunk
          FROM unnest(hours, chunks) AS l (bucket, chunk)) AS d
         JOIN support_customer_rollup r ON r.grain = 'hour' AND r.chunk = d.chunk AND r.bucket >= d.bucket
                                       AND r.bucket < d.bucket + interval '24 hours'
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (grain, bucket, chunk) DO UPDATE SET customers = t.customers | excluded.customers;
END
$$;
REVOKE EXECUTE ON FUNCTION support_customer_bits_recount(timestamptz[], bigint[]) FROM PUBLIC;

CREATE FUNCTION support_tickets_metered() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    changes jsonb;
    created timestamptz[];
    customers bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM support_metric_rollups_apply(coalesce((
            SELECT jsonb_agg(support_metric_change(1, n)) FROM new_rows n), '[]'));
        SELECT array_agg(n.created_at), array_agg(n.customer_id) INTO created, customers FROM new_rows n;
        PERFORM support_customer_bits_add(created, customers);
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only tickets whose counted columns changed (a status change alone counts nowhere here).
        SELECT jsonb_agg(x) INTO changes FROM (
            SELECT support_metric_change(-1, o) AS x FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.created_at, o.handled_by, o.ai_answered_at, o.draft_created_at, o.first_response_at,
                   o.resolved_at, o.rating, o.ai_cost_usd, o.customer_id)
                  IS DISTINCT FROM (n.created_at, n.handled_by, n.ai_answered_at, n.draft_created_at,
                                    n.first_response_at, n.resolved_at, n.rating, n.ai_cost_usd, n.customer_id)
            UNION ALL
            SELECT support_metric_change(1, n) FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.created_at, o.handled_by, o.ai_answered_at, o.draft_created_at, o.first_response_at,
                   o.resolved_at, o.rating, o.ai_cost_usd, o.customer_id)
                  IS DISTINCT FROM (n.created_at, n.handled_by, n.ai_answered_at, n.draft_created_at,
                                    n.first_response_at, n.resolved_at, n.rating, n.ai_cost_usd, n.customer_id)
        ) AS s;
        IF changes IS NOT NULL THEN
            PERFORM support_metric_rollups_apply(changes);
        END IF;
        UPDATE support_ticket_handoffs h SET created_at = n.created_at
        FROM new_rows n WHERE h.ticket_id = n.id AND h.created_at <> n.created_at;
        SELECT array_agg(o.created_at), array_agg(o.customer_id) INTO created, customers
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.created_at, o.customer_id) IS DISTINCT FROM (n.created_at, n.customer_id);
        IF created IS NOT NULL THEN
            PERFORM support_customer_bits_recount(created, customers);
            SELECT array_agg(n.created_at), array_agg(n.customer_id) INTO created, customers
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.created_at, o.customer_id) IS DISTINCT FROM (n.created_at, n.customer_id);
            PERFORM support_customer_bits_add(created, customers);
        END IF;
    ELSE
        -- DELETE: the counts went before each row (support_ticket_unmetered); the bits and hand-offs now.
        SELECT array_agg(o.created_at), array_agg(o.customer_id) INTO created, customers FROM old_rows o;
        PERFORM support_customer_bits_recount(created, customers);
        DELETE FROM support_ticket_handoffs h USING old_rows o WHERE h.ticket_id = o.id;
    END IF;
    RETURN NULL;
END
$$;

-- Before the row goes, while its hand-off tasks are still there (ON DELETE CASCADE removes them after).
CREATE FUNCTION support_ticket_unmetered() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM support_metric_rollups_apply(jsonb_build_array(support_metric_change(-1, OLD)));
    RETURN OLD;
END
$$;

-- Hand-off tasks added, changed or removed: the tickets' latest hand-off again, and their flag where it moved.
CREATE FUNCTION support_handoffs_refresh(ticket_ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
    DECLARE
        changes jsonb;
    BEGIN
        -- One writer at a time per ticket (the row lock a ticket update takes too; tasks' foreign keys only share
        -- it): each reads the hand-off row and the tasks the others committed, and no change is counted twice.
        PERFORM 1 FROM support_threads_data WHERE id = ANY (ticket_ids) ORDER BY id FOR NO KEY UPDATE;
        SELECT jsonb_agg(x) INTO changes FROM (
            SELECT jsonb_build_object('sign', k.sign, 'ticket', to_jsonb(t), 'handoff', k.flag) AS x
            FROM support_threads_data t
                 LEFT JOIN support_ticket_handoffs h ON h.ticket_id = t.id
                 CROSS JOIN LATERAL (SELECT max(a.created_at) AS last_at FROM ai_agent_tasks a
                                     WHERE a.ticket_id = t.id AND a.task_type = 'handoff') AS a
                 CROSS JOIN LATERAL (VALUES (-1, coalesce(h.last_at >= t.created_at, false)),
                                            (1, coalesce(a.last_at >= t.created_at, false))) AS k (sign, flag)
            WHERE t.id = ANY (ticket_ids)
              AND coalesce(h.last_at >= t.created_at, false) <> coalesce(a.last_at >= t.created_at, false)) AS s;
        IF changes IS NOT NULL THEN
            PERFORM support_metric_rollups_apply(changes);
        END IF;
        DELETE FROM support_ticket_handoffs WHERE ticket_id = ANY (ticket_ids);
        INSERT INTO support_ticket_handoffs
        SELECT t.id, t.created_at, max(a.created_at)
        FROM ai_agent_tasks a JOIN support_threads_data t ON t.id = a.ticket_id
        WHERE a.ticket_id = ANY (ticket_ids) AND a.task_type = 'handoff'
        GROUP BY t.id, t.created_at;
    END
$$;
REVOKE EXECUTE ON FUNCTION support_handoffs_refresh(bigint[]) FROM PUBLIC;

CREATE FUNCTION support_handoffs_tracked() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    tickets bigint[];
BEGIN
    -- Each statement is planned when it first runs, so a branch names only the transition tables it has.
    IF TG_OP = 'INSERT' THEN
        tickets := ARRAY(SELECT DISTINCT ticket_id FROM new_rows WHERE task_type = 'handoff');
    ELSIF TG_OP = 'DELETE' THEN
        tickets := ARRAY(SELECT DISTINCT ticket_id FROM old_rows WHERE task_type = 'handoff');
    ELSE
        -- Only what the latest hand-off depends on (ticket, type, time): a task's status or result changing costs
        -- nothing, and takes no lock on its ticket (which would order it against ticket writers and deadlock).
        tickets := ARRAY(
            SELECT ticket_id FROM (SELECT ticket_id, task_type, created_at FROM old_rows WHERE task_type = 'handoff'
                                   EXCEPT ALL SELECT ticket_id, task_type, created_at FROM new_rows) AS gone
            UNION
            SELECT ticket_id FROM (SELECT ticket_id, task_type, created_at FROM new_rows WHERE task_type = 'handoff'
                                   EXCEPT ALL SELECT ticket_id, task_type, created_at FROM old_rows) AS came);
    END IF;
    IF cardinality(tickets) > 0 THEN  -- most tasks are no hand-off: nothing to do
        PERFORM support_handoffs_refresh(tickets);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_tickets_metered_inserted AFTER INSERT ON support_threads_data
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tickets_metered();
CREATE TRIGGER support_tickets_metered_updated AFTER UPDATE ON support_threads_data
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_tickets_metered();
CREATE TRIGGER support_tickets_metered_deleted AFTER DELETE ON support_threads_data
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tickets_metered();
CREATE TRIGGER support_tickets_unmetered BEFORE DELETE ON support_threads_data
    FOR EACH ROW EXECUTE FUNCTION support_ticket_unmetered();
CREATE TRIGGER support_handoffs_inserted AFTER INSERT ON ai_agent_tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_handoffs_tracked();
CREATE TRIGGER support_handoffs_updated AFTER UPDATE ON ai_agent_tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_handoffs_tracked();
CREATE TRIGGER support_handoffs_deleted AFTER DELETE ON ai_agent_tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_handoffs_tracked();

-- ------------------------------------------------------------------------------------------------ rebuild
-- As 0025: each query through support_rollup_fill (parallel workers may run it), hours from the raw rows, days
-- added up from the hours (bitmaps OR-ed).
CREATE FUNCTION support_metric_rollups_rebuild() RETURNS void
    LANGUAGE plpgsql
    SET work_mem = '256MB'
    SET enable_sort = off
    SET parallel_setup_cost = 0
    SET parallel_tuple_cost = 0
    AS $$
    BEGIN
        DELETE FROM support_ticket_handoffs;
        PERFORM support_rollup_fill('support_ticket_handoffs', $q$
            SELECT a.ticket_id, s.created_at, max(a.created_at)
            FROM ai_agent_tasks a JOIN support_threads_data s ON s.id = a.ticket_id
            WHERE a.task_type = 'handoff'
            GROUP BY 1, 2$q$);
        DELETE FROM support_metric_rollup;
        PERFORM support_rollup_fill('support_metric_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), count(*), count(s.handled_by),
                   count(*) FILTER (WHERE s.handled_by = 'ai'), count(*) FILTER (WHERE s.handled_by = 'ai_edited'),
                   count(*) FILTER (WHERE s.handled_by = 'human'), count(s.ai_answered_at), count(s.draft_created_at),
                   count(*) FILTER (WHERE h.last_at >= s.created_at), count(s.resolved_at), count(s.rating),
                   coalesce(sum(s.rating), 0), count(*) FILTER (WHERE s.rating <= 2),
                   count(*) FILTER (WHERE s.rating >= 4), count(s.first_response_at),
                   coalesce(sum(extract(epoch FROM s.first_response_at - s.created_at)), 0),
                   coalesce(sum(extract(epoch FROM s.resolved_at - s.created_at)), 0),
                   coalesce(sum(extract(epoch FROM s.ai_answered_at - s.created_at)), 0),
                   count(s.ai_cost_usd), coalesce(sum(s.ai_cost_usd), 0), count(s.customer_id)
            FROM support_threads_data s LEFT JOIN support_ticket_handoffs h ON h.ticket_id = s.id
            GROUP BY 2$q$);
        PERFORM support_rollup_fill('support_metric_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), sum(r.tickets), sum(r.answered), sum(r.ai_handled),
                   sum(r.ai_edited), sum(r.human_handled), sum(r.ai_answered), sum(r.drafts), sum(r.handoffs),
                   sum(r.resolved), sum(r.rated), sum(r.rating_sum), sum(r.low_ratings), sum(r.high_ratings),
                   sum(r.responded), sum(r.response_sum), sum(r.resolution_sum), sum(r.ai_answer_sum),
                   sum(r.cost_count), sum(r.cost_sum), sum(r.identified)
            FROM support_metric_rollup r WHERE r.grain = 'hour'
            GROUP BY 2$q$);
        DELETE FROM support_duration_rollup;
        -- A query per measure: one over the three (a row per ticket and measure) took seven times as long.
        PERFORM support_rollup_fill('support_duration_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), 'response',
                   support_response_band(s.first_response_at, s.created_at), count(*)
            FROM support_threads_data s WHERE s.first_response_at IS NOT NULL
            GROUP BY 2, 4$q$);
        PERFORM support_rollup_fill('support_duration_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), 'resolution',
                   support_response_band(s.resolved_at, s.created_at), count(*)
            FROM support_threads_data s WHERE s.resolved_at IS NOT NULL
            GROUP BY 2, 4$q$);
        PERFORM support_rollup_fill('support_duration_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), 'ai_answer',
                   support_response_band(s.ai_answered_at, s.created_at), count(*)
            FROM support_threads_data s WHERE s.ai_answered_at IS NOT NULL
            GROUP BY 2, 4$q$);
        PERFORM support_rollup_fill('support_duration_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.measure, r.band, sum(r.tickets)
            FROM support_duration_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3, 4$q$);
        DELETE FROM support_customer_rollup;
        PERFORM support_rollup_fill('support_customer_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), s.customer_id >> 13,
                   bit_or(support_customer_bit(s.customer_id))
            FROM support_threads_data s WHERE s.customer_id IS NOT NULL
            GROUP BY 2, 3$q$);
        PERFORM support_rollup_fill('support_customer_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.chunk, bit_or(r.customers)
            FROM support_customer_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3$q$);
    END
$$;
REVOKE EXECUTE ON FUNCTION support_metric_rollups_rebuild() FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------ window
-- ticket_metrics' totals of a window, before rounding: counts, sums, distinct customers and the three medians
-- (percentile_cont(0.5) in seconds, computed as 0015's support_response_percentiles does). A ticket counts as handed
-- off when a hand-off task of it started at or after handoffs_from (default: the window's start): ticket_metrics
-- grouped by day asks each day with the whole period's start.
CREATE FUNCTION support_ticket_metrics_window(window_start timestamptz, window_end timestamptz,
                                              handoffs_from timestamptz DEFAULT NULL)
    RETURNS TABLE (tickets bigint, answered bigint, ai_handled bigint, ai_edited bigint, human_handled bigint,
                   ai_answered bigint, drafts bigint, handoffs bigint, resolved bigint, rated bigint,
                   rating_sum bigint, low_ratings bigint, high_ratings bigint, responded bigint,
                   response_sum numeric, resolution_sum numeric, ai_answer_sum numeric, cost_count bigint,
                   cost_sum numeric, identified bigint, customers bigint, median_response float8,
                   median_resolution float8, median_ai_answer float8)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    WITH edges AS MATERIALIZED (  -- the raw tickets of the partial hours
        SELECT s.*, EXISTS (SELECT FROM support_ticket_handoffs h
                            WHERE h.ticket_id = s.id AND h.last_at >= s.created_at) AS handed_off
        FROM support_threads_data s
        WHERE (s.created_at >= window_start AND s.created_at < b.h0)
           OR (s.created_at >= b.h1 AND s.created_at < window_end)
    ), counted AS (
        SELECT r.tickets, r.answered, r.ai_handled, r.ai_edited, r.human_handled, r.ai_answered, r.drafts, r.handoffs,
               r.resolved, r.rated, r.rating_sum, r.low_ratings, r.high_ratings, r.responded, r.response_sum,
               r.resolution_sum, r.ai_answer_sum, r.cost_count, r.cost_sum, r.identified
        FROM support_metric_rollup r
        WHERE (r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
           OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1)))
        UNION ALL
        SELECT count(*), count(e.handled_by), count(*) FILTER (WHERE e.handled_by = 'ai'),
               count(*) FILTER (WHERE e.handled_by = 'ai_edited'), count(*) FILTER (WHERE e.handled_by = 'human'),
               count(e.ai_answered_at), count(e.draft_created_at), count(*) FILTER (WHERE e.handed_off),
               count(e.resolved_at), count(e.rating), coalesce(sum(e.rating), 0)::bigint,
               count(*) FILTER (WHERE e.rating <= 2), count(*) FILTER (WHERE e.rating >= 4),
               count(e.first_response_at), coalesce(sum(extract(epoch FROM e.first_response_at - e.created_at)), 0),
               coalesce(sum(extract(epoch FROM e.resolved_at - e.created_at)), 0),
               coalesce(sum(extract(epoch FROM e.ai_answered_at - e.created_at)), 0), count(e.ai_cost_usd),
               coalesce(sum(e.ai_cost_usd), 0), count(e.customer_id)
        FROM edges e
    ), early AS (
        -- Hand-offs before their ticket's arrival that the period holds (see support_ticket_handoffs).
        SELECT count(*) AS handoffs FROM support_ticket_handoffs h
        WHERE h.last_at < h.created_at AND h.created_at >= window_start AND h.created_at < window_end
          AND h.last_at >= coalesce(handoffs_from, window_start)
    ), bits AS (
        -- One index range per piece.
        SELECT r.chunk, bit_or(r.customers) AS customers FROM (
            SELECT r.chunk, r.customers FROM support_customer_rollup r
            WHERE r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1
            UNION ALL
            SELECT r.chunk, r.customers FROM support_customer_rollup r
            WHERE r.grain = 'hour' AND r.bucket >= b.h0 AND r.bucket < b.d0
            UNION ALL
            SELECT r.chunk, r.customers FROM support_customer_rollup r
            WHERE r.grain = 'hour' AND r.bucket >= b.d1 AND r.bucket < b.h1) AS r
        GROUP BY r.chunk
    ), customers AS (
        -- The bits set, and the edges' customers whose bit is not.
        SELECT coalesce((SELECT sum(bit_count(c.customers)) FROM bits c), 0)
               + (SELECT count(DISTINCT e.customer_id) FROM edges e LEFT JOIN bits c ON c.chunk = e.customer_id >> 13
                  WHERE e.customer_id IS NOT NULL
                    AND (c.customers IS NULL OR get_bit(c.customers, (e.customer_id & 8191)::int) = 0)) AS n
    ), pieces AS (
        SELECT r.measure, r.band, r.tickets FROM support_duration_rollup r
        WHERE r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1
        UNION ALL
        SELECT r.measure, r.band, r.tickets FROM support_duration_rollup r
        WHERE r.grain = 'hour' AND r.bucket >= b.h0 AND r.bucket < b.d0
        UNION ALL
        SELECT r.measure, r.band, r.tickets FROM support_duration_rollup r
        WHERE r.grain = 'hour' AND r.bucket >= b.d1 AND r.bucket < b.h1
        UNION ALL
        SELECT d.measure, d.band, count(*)
        FROM edges e CROSS JOIN LATERAL (VALUES
            ('response', support_response_band(e.first_response_at, e.created_at)),
            ('resolution', support_response_band(e.resolved_at, e.created_at)),
            ('ai_answer', support_response_band(e.ai_answered_at, e.created_at))) AS d (measure, band)
        WHERE d.band IS NOT NULL
        GROUP BY 1, 2
    ), bands AS (
        SELECT p.measure, p.band, sum(p.tickets)::bigint AS n FROM pieces p GROUP BY 1, 2
    ), cumulative AS (
        SELECT d.measure, d.band, d.n,
               (sum(d.n) OVER (PARTITION BY d.measure ORDER BY d.band) - d.n)::bigint AS before,
               (sum(d.n) OVER (PARTITION BY d.measure))::bigint AS total
        FROM bands d
    ), wanted AS (
        SELECT DISTINCT c.measure, 0.5::float8 * (c.total - 1)::float8 AS pos FROM cumulative c
    ), located AS (
        SELECT w.measure, w.pos, k.upper, c.band, k.rank - c.before AS offset_in_band
        FROM wanted w
        CROSS JOIN LATERAL (VALUES (floor(w.pos)::bigint, false), (ceil(w.pos)::bigint, true)) AS k (rank, upper)
        JOIN cumulative c ON c.measure = w.measure AND k.rank >= c.before AND k.rank < c.before + c.n
    ), band_values AS MATERIALIZED (
        -- Each band's durations of the period read (from its index) and sorted once, as intervals: they sort as
        -- their seconds do, and only the values picked are converted.
        SELECT l.measure, l.band, array_agg(v.took ORDER BY v.took) AS sorted
        FROM (SELECT DISTINCT measure, band FROM located) AS l
        CROSS JOIN LATERAL (
            -- Every answered ticket has a handler (answered_has_handler), so the three cover them all.
            SELECT s.first_response_at - s.created_at AS took
            FROM support_threads_data s
            WHERE l.measure = 'response' AND s.handled_by IN ('ai', 'ai_edited', 'human')
              AND s.first_response_at IS NOT NULL AND support_response_band(s.first_response_at, s.created_at) = l.band
              AND s.created_at >= window_start AND s.created_at < window_end
            UNION ALL
            SELECT s.resolved_at - s.created_at
            FROM support_threads_data s
            WHERE l.measure = 'resolution'
              AND s.resolved_at IS NOT NULL AND support_response_band(s.resolved_at, s.created_at) = l.band
              AND s.created_at >= window_start AND s.created_at < window_end
            UNION ALL
            SELECT s.ai_answered_at - s.created_at
            FROM support_threads_data s
            WHERE l.measure = 'ai_answer'
              AND s.ai_answered_at IS NOT NULL AND support_response_band(s.ai_answered_at, s.created_at) = l.band
              AND s.created_at >= window_start AND s.created_at < window_end) AS v
        GROUP BY 1, 2
    ), medians AS (
        -- float8_lerp: lo + (proportion x (hi - lo)), proportion = pos - first_row.
        SELECT r.measure,
               CASE WHEN ceil(r.pos) > floor(r.pos)
                    THEN min(r.seconds) FILTER (WHERE NOT r.upper)
                         + ((r.pos - floor(r.pos)) * (min(r.seconds) FILTER (WHERE r.upper)
                                                      - min(r.seconds) FILTER (WHERE NOT r.upper)))
                    ELSE min(r.seconds) FILTER (WHERE NOT r.upper) END AS seconds
        FROM (SELECT l.measure, l.pos, l.upper,
                     extract(epoch FROM v.sorted[(l.offset_in_band + 1)::int])::float8 AS seconds
              FROM located l JOIN band_values v ON v.measure = l.measure AND v.band = l.band) AS r
        GROUP BY r.measure, r.pos
    )
    SELECT sum(c.tickets)::bigint, sum(c.answered)::bigint, sum(c.ai_handled)::bigint, sum(c.ai_edited)::bigint,
           sum(c.human_handled)::bigint, sum(c.ai_answered)::bigint, sum(c.drafts)::bigint,
           (sum(c.handoffs) + (SELECT e.handoffs FROM early e))::bigint, sum(c.resolved)::bigint,
           sum(c.rated)::bigint, sum(c.rating_sum)::bigint, sum(c.low_ratings)::bigint, sum(c.high_ratings)::bigint,
           sum(c.responded)::bigint, sum(c.response_sum), sum(c.resolution_sum), sum(c.ai_answer_sum),
           sum(c.cost_count)::bigint, sum(c.cost_sum), sum(c.identified)::bigint, (SELECT n FROM customers)::bigint,
           (SELECT m.seconds FROM medians m WHERE m.measure = 'response'),
           (SELECT m.seconds FROM medians m WHERE m.measure = 'resolution'),
           (SELECT m.seconds FROM medians m WHERE m.measure = 'ai_answer')
    FROM counted c;
END
$$;

GRANT SELECT ON support_ticket_handoffs, support_metric_rollup, support_duration_rollup, support_customer_rollup
    TO levhaolam_analytics;

SELECT support_metric_rollups_rebuild();
