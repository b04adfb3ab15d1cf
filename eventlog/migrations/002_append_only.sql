-- Append-only for real. The writer role already lacks UPDATE, DELETE and TRUNCATE; the
-- triggers also stop the owner, and statement-level triggers fire even when no row
-- matches, so an attempt never passes silently. A superuser can still disable triggers:
-- that is what the hash chain and `liuhen verify` are for.
CREATE FUNCTION eventlog.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'eventlog.events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON eventlog.events
    FOR EACH STATEMENT EXECUTE FUNCTION eventlog.refuse_change();
