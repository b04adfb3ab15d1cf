-- A district's own rules, from its file (services/directory/rules.py): the unit
-- assessment rule table (考核), NULL when the file has none and the defaults apply;
-- and the accountability settings ({} likewise). Written by projections.py from
-- DistrictRegistered/Changed, read through read.district with the defaults under them.
ALTER TABLE directory.districts
    ADD COLUMN assessment jsonb,
    ADD COLUMN accountability jsonb NOT NULL DEFAULT '{}';
