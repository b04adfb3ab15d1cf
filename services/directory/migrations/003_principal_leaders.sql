-- Sealed complaints (services/complaints/sealed.py): a district's principal leaders
-- (主要领导, person ids of its file) and the jurisdiction above it (a district code).
-- A complaint about one of them is recorded in that jurisdiction, never in the
-- district's own. Written by projections.py from DistrictRegistered/Changed.
ALTER TABLE directory.districts
    ADD COLUMN principal_leaders jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN level_above text;
