-- The analytics server logs in as levhaolam_analytics itself instead of switching into it with SET LOCAL ROLE
-- from the migrating user's session. Role switches (SET ROLE, set_config('role', ...)) are checked against the
-- session user: under a superuser session any SQL that reaches set_config could switch back and read everything.
-- A login role that is a member of no other role has nothing to switch to, whatever SQL runs.
--
-- Only LOGIN and NOINHERIT are set here: changing SUPERUSER, REPLICATION or BYPASSRLS needs a superuser, which a
-- managed database (Supabase) does not give the migrating user. 0005 created the role without them, and the
-- analytics server refuses to start if the role has any of them (servers/analytics/reader.py).
-- With password authentication, give the role a password and set LEVHAOLAM_ANALYTICS_DATABASE_URL (README).

ALTER ROLE levhaolam_analytics LOGIN NOINHERIT;

-- Every transaction of the role is read-only unless it says otherwise; the executor also says READ ONLY.
ALTER ROLE levhaolam_analytics SET default_transaction_read_only = on;

-- Nothing to become: drop any membership granted by hand since 0005.
DO $$
DECLARE
    granted record;
BEGIN
    FOR granted IN
        SELECT m.roleid::regrole AS role_name
        FROM pg_auth_members m
        WHERE m.member = 'levhaolam_analytics'::regrole
    LOOP
        EXECUTE format('REVOKE %s FROM levhaolam_analytics', granted.role_name);
    END LOOP;
END
$$;
