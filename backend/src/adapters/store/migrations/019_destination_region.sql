-- The region of a destination that lives in one (Intercom: us, eu or au): its API is at that region's address.
ALTER TABLE destinations ADD COLUMN region text;
