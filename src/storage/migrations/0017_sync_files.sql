-- Change files of file subscriptions (docs/sync.md, "Pull and file delivery"): one row per file written, recorded in
-- the transaction that moves the subscription's cursor past the changes it holds. A file on disk without its row (the
-- writer stopped between the rename and the commit) is written again under the same number, with the same changes.
CREATE TABLE sync_files (
  subscription_id text NOT NULL REFERENCES sync_subscriptions (id),
  -- 1, 2, 3… per subscription, without gaps: the number in the file's name.
  seq integer NOT NULL CHECK (seq > 0),
  name text NOT NULL,
  -- The cursor before the file (exclusive) and after it: the feed positions it covers, kept or filtered out.
  cursor_from bigint NOT NULL,
  cursor_to bigint NOT NULL,
  -- The positions of the first and last change it holds.
  first_position bigint NOT NULL,
  last_position bigint NOT NULL,
  change_count integer NOT NULL CHECK (change_count > 0),
  -- base64url SHA-256 of the file's bytes, as its signature's bdh.
  digest text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription_id, seq)
);
