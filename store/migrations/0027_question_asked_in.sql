-- A question's yes/no buttons name the customer message it was asked in, so the question is stored with the turn
-- that asked it (one transaction, one round trip) instead of first, on its own, to learn its generated id.
-- Questions asked before this migration keep their id in their buttons (asked_in is NULL).
ALTER TABLE pending_actions ADD COLUMN asked_in bigint REFERENCES messages (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX pending_actions_asked_in_idx ON pending_actions (asked_in);
