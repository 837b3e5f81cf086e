-- A key revoked because it was rotated out still vouches for the conventions it signed before; a key revoked as
-- compromised does not: the conventions it signed stop being enforced until they are signed again.
ALTER TABLE member_keys ADD COLUMN compromised boolean NOT NULL DEFAULT false;
