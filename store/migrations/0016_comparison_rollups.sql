-- Rollups of the AI/human answer comparisons (issue 14, answer_comparison), kept with 0015's detail rollups by the
-- same triggers and change elements: a ticket's element now carries its comparison, and a comparison that changes
-- is an element of its ticket with no ticket or message counts of its own.

-- ------------------------------------------------------------------------------------------------ tables
-- Similarity bands 0.01 wide; float8 multiplication and floor are monotonic, so bands are ordered as the values.
CREATE FUNCTION support_similarity_band(similarity real) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT floor(similarity::float8 * 100)::int $$;

-- Comparisons per hour or day of their ticket's arrival, verdict, handler and band. similarity_sum adds the float8
-- values avg() adds. Float sums depend on their order unless they are exact: they are while the total's float8
-- still holds the lowest bit of every similarity (a real 0.001 has bits down to 2^-33, so up to a total of 2^20,
-- which a million 3-decimal similarities stay under); the test compares the averages with the raw query's.
CREATE TABLE support_comparison_rollup (
    grain          text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket         timestamptz NOT NULL,
    verdict        text NOT NULL,
    handled_by     text,
    band           int NOT NULL,
    compared       bigint NOT NULL,
    similarity_sum float8 NOT NULL,
    unchanged      bigint NOT NULL  -- similarity >= 1
);
CREATE UNIQUE INDEX support_comparison_rollup_key ON support_comparison_rollup (grain, bucket, verdict, handled_by, band)
    NULLS NOT DISTINCT;
CREATE INDEX support_comparison_rollup_empty ON support_comparison_rollup (grain) WHERE compared = 0;

-- The exact similarities within each band (the data has three decimals: at most ten per band), for the median:
-- the band rollup finds the band of a rank, this table the value. Keyed by band first: one band over a window is
-- one index range.
CREATE TABLE support_similarity_rollup (
    grain      text NOT NULL CHECK (grain IN ('hour', 'day')),
    band       int NOT NULL,
    bucket     timestamptz NOT NULL,
    verdict    text NOT NULL,
    handled_by text,
    similarity real NOT NULL,
    compared   bigint NOT NULL
);
CREATE UNIQUE INDEX support_similarity_rollup_key
    ON support_similarity_rollup (grain, band, bucket, verdict, handled_by, similarity) NULLS NOT DISTINCT;
CREATE INDEX support_similarity_rollup_empty ON support_similarity_rollup (grain) WHERE compared = 0;

-- ------------------------------------------------------------------------------------------------ keeping them
-- 0015's elements plus `verdict` and `similarity` (null: no comparison).
CREATE OR REPLACE FUNCTION support_detail_rollups_apply(changes jsonb) RETURNS void
    LANGUAGE sql
    AS $$
        WITH c AS (
            SELECT (x ->> 'sign')::int AS sign, (x ->> 'tickets')::int AS tickets, (x ->> 'customer')::int AS customer,
                   (x ->> 'ai')::int AS ai, (x ->> 'human')::int AS human, x ->> 'verdict' AS verdict,
                   (x ->> 'similarity')::real AS similarity, t.*
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
        ), comparisons AS (
            INSERT INTO support_comparison_rollup AS r
            SELECT grain, bucket, verdict, handled_by, support_similarity_band(similarity), sum(sign),
                   sum(sign * similarity::float8), sum(sign * (similarity >= 1)::int)
            FROM g WHERE verdict IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (grain, bucket, verdict, handled_by, band) DO UPDATE SET
                compared = r.compared + excluded.compared, similarity_sum = r.similarity_sum + excluded.similarity_sum,
                unchanged = r.unchanged + excluded.unchanged
        ), similarities AS (
            INSERT INTO support_similarity_rollup AS r
            SELECT grain, support_similarity_band(similarity), bucket, verdict, handled_by, similarity, sum(sign)
            FROM g WHERE verdict IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (grain, band, bucket, verdict, handled_by, similarity) DO UPDATE SET
                compared = r.compared + excluded.compared
        )
        INSERT INTO support_message_rollup AS r
        SELECT grain, bucket, category, channel, handled_by, sum(sign * tickets), sum(sign * customer),
               sum(sign * ai), sum(sign * human)
        FROM g WHERE tickets <> 0 OR customer <> 0 OR ai <> 0 OR human <> 0
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (grain, bucket, category, channel, handled_by) DO UPDATE SET
            tickets = r.tickets + excluded.tickets, customer_messages = r.customer_messages + excluded.customer_messages,
            ai_messages = r.ai_messages + excluded.ai_messages, human_messages = r.human_messages + excluded.human_messages;
        DELETE FROM support_response_rollup WHERE tickets = 0;
        DELETE FROM support_message_rollup WHERE tickets = 0;
        DELETE FROM support_comparison_rollup WHERE compared = 0;
        DELETE FROM support_similarity_rollup WHERE compared = 0;
$$;

-- A ticket as a change: itself with all its messages and its comparison.
CREATE OR REPLACE FUNCTION support_ticket_change(sign int, ticket support_threads_data) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        SELECT jsonb_build_object('sign', sign, 'ticket', to_jsonb(ticket), 'tickets', 1,
                                  'customer', count(*) FILTER (WHERE d.role = 'customer'),
                                  'ai', count(*) FILTER (WHERE d.role = 'ai'),
                                  'human', count(*) FILTER (WHERE d.role = 'human'),
                                  'verdict', (SELECT c.verdict FROM ai_human_comparison c WHERE c.ticket_id = ticket.id),
                                  'similarity', (SELECT c.similarity FROM ai_human_comparison c
                                                 WHERE c.ticket_id = ticket.id))
        FROM support_dialogs d WHERE d.ticket_id = ticket.id
    $$;

-- A comparison as a change of its ticket's (none if the ticket is gone: its delete already subtracted it).
CREATE FUNCTION support_comparison_change(sign int, comparison ai_human_comparison) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        SELECT jsonb_build_object('sign', sign, 'ticket', to_jsonb(t), 'tickets', 0, 'customer', 0, 'ai', 0,
                                  'human', 0, 'verdict', comparison.verdict, 'similarity', comparison.similarity)
        FROM support_threads_data t WHERE t.id = comparison.ticket_id
    $$;

CREATE FUNCTION support_comparisons_detailed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM support_detail_rollups_apply(coalesce((
            SELECT jsonb_agg(x) FROM (SELECT support_comparison_change(-1, o) AS x FROM old_rows o) AS s
            WHERE x IS NOT NULL), '[]'));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM support_detail_rollups_apply(coalesce((
            SELECT jsonb_agg(x) FROM (SELECT support_comparison_change(1, n) AS x FROM new_rows n) AS s
            WHERE x IS NOT NULL), '[]'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_comparisons_detail_inserted AFTER INSERT ON ai_human_comparison
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_comparisons_detailed();
CREATE TRIGGER support_comparisons_detail_updated AFTER UPDATE ON ai_human_comparison
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_comparisons_detailed();
CREATE TRIGGER support_comparisons_detail_deleted AFTER DELETE ON ai_human_comparison
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_comparisons_detailed();

CREATE FUNCTION support_comparison_rollups_rebuild() RETURNS void
    LANGUAGE sql
    AS $$
        DELETE FROM support_comparison_rollup;
        INSERT INTO support_comparison_rollup
        SELECT g.grain, date_trunc(g.grain, s.created_at, 'UTC'), c.verdict, s.handled_by,
               support_similarity_band(c.similarity), count(*), sum(c.similarity::float8),
               count(*) FILTER (WHERE c.similarity >= 1)
        FROM ai_human_comparison c JOIN support_threads_data s ON s.id = c.ticket_id
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3, 4, 5;
        DELETE FROM support_similarity_rollup;
        INSERT INTO support_similarity_rollup
        SELECT g.grain, support_similarity_band(c.similarity), date_trunc(g.grain, s.created_at, 'UTC'), c.verdict,
               s.handled_by, c.similarity, count(*)
        FROM ai_human_comparison c JOIN support_threads_data s ON s.id = c.ticket_id
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3, 4, 5, 6;
$$;
REVOKE EXECUTE ON FUNCTION support_comparison_rollups_rebuild() FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------ windows
-- Comparisons of a window's tickets by verdict, handler and band (bucket left out); aggregate them.
CREATE FUNCTION support_comparison_window(window_start timestamptz, window_end timestamptz)
    RETURNS TABLE (verdict text, handled_by text, band int, compared bigint, similarity_sum float8, unchanged bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT r.verdict, r.handled_by, r.band, r.compared, r.similarity_sum, r.unchanged
    FROM support_comparison_rollup r
    WHERE (r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
       OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1)))
    UNION ALL
    SELECT c.verdict, s.handled_by, support_similarity_band(c.similarity), count(*), sum(c.similarity::float8),
           count(*) FILTER (WHERE c.similarity >= 1)
    FROM support_threads_data s JOIN ai_human_comparison c ON c.ticket_id = s.id
    WHERE (s.created_at >= window_start AND s.created_at < b.h0)
       OR (s.created_at >= b.h1 AND s.created_at < window_end)
    GROUP BY 1, 2, 3;
END
$$;

-- The exact similarities of one band in a window, with how many comparisons have each.
CREATE FUNCTION support_similarity_window(window_start timestamptz, window_end timestamptz, similarity_band int)
    RETURNS TABLE (verdict text, handled_by text, similarity real, compared bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT r.verdict, r.handled_by, r.similarity, r.compared
    FROM support_similarity_rollup r
    WHERE r.band = similarity_band
      AND ((r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
           OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1))))
    UNION ALL
    SELECT c.verdict, s.handled_by, c.similarity, count(*)
    FROM support_threads_data s JOIN ai_human_comparison c ON c.ticket_id = s.id
    WHERE support_similarity_band(c.similarity) = similarity_band
      AND ((s.created_at >= window_start AND s.created_at < b.h0)
           OR (s.created_at >= b.h1 AND s.created_at < window_end))
    GROUP BY 1, 2, 3;
END
$$;

GRANT SELECT ON support_comparison_rollup, support_similarity_rollup TO levhaolam_analytics;

SELECT support_comparison_rollups_rebuild();
