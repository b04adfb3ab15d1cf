-- Sealed complaints (services/complaints/sealed.py): on the row of a complaint
-- recorded at the level above because it is about a principal leader of the
-- district that received it, that district's code; NULL on every other complaint.
-- The row's own `district` is the level above's, so the receiving district's
-- queries never see it; this column is for the level above, and keeps sealed
-- complaints out of the public view (Open311 without a key).
ALTER TABLE complaints.complaints ADD COLUMN forwarded_from text;
