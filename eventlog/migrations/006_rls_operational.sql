-- Row-level security on the log's two operational tables, which carry no district:
-- enabled and forced like every read model, with policies that say who may see and
-- write which rows (tests/integration/test_rls_catalog.py fails on any table of the
-- project without them). eventlog.events stays the one exception: it has its own
-- guard (002, 005: the writer may only SELECT and INSERT, triggers refuse UPDATE,
-- DELETE and TRUNCATE even to the owner), and its readers choose the district.
--
-- "Inside a district" below means a transaction that set `liuhen.district` to a
-- district's code (eventlog/tenancy.py: district_scope; handle() does it too; always
-- per transaction, never per session). "Across districts" means one that set the
-- marker '*' (tenancy.all_districts), as only the platform's own cross-district
-- work does. A transaction that set neither (the setting unset or empty, as it is
-- again after every such transaction) is in no district, and sees nothing here.

-- eventlog.checkpoints: where a reader of the whole log (the relay) stands. It reads
-- every district's events and keeps its place across districts
-- (eventlog/relay.py: load_checkpoint, save_checkpoint). A transaction acting for
-- one district, or for none, has no business reading or moving it: moved back,
-- every district's events would be published again; moved on, some would never
-- be. So the rows are visible and writable across districts only, to the owner as
-- well.
ALTER TABLE eventlog.checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE eventlog.checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY all_districts ON eventlog.checkpoints
    USING (current_setting('liuhen.district', true) = '*')
    WITH CHECK (current_setting('liuhen.district', true) = '*');

-- eventlog.processed: (consumer, event id) for each event a consumer applied, added
-- in the transaction of the effect, which runs inside the event's district (a
-- consumer's handle()) or in none (its own bookkeeping); read by first_delivery
-- and by rebuilds of consumer-fed models (eventlog/rebuild.py). A row holds a
-- consumer's name and a random event id (uuid4), nothing of a district's, and does
-- not know the event's district, so no policy could check it: every transaction may
-- read and add rows. None may change or remove one, not even the owner: there is no
-- UPDATE or DELETE policy, so under FORCE both find no row (the writer role holds
-- neither privilege anyway). A tracking row removed would let a redelivered event
-- apply its effect twice.
ALTER TABLE eventlog.processed ENABLE ROW LEVEL SECURITY;
ALTER TABLE eventlog.processed FORCE ROW LEVEL SECURITY;
CREATE POLICY consumers_read ON eventlog.processed FOR SELECT USING (true);
CREATE POLICY consumers_record ON eventlog.processed FOR INSERT WITH CHECK (true);
