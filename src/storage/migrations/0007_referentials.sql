-- Referentials: source records and their versions, golden records with their history, links, natural keys, review
-- queue, distinct pairs, steward decisions and the change feed (positions assigned after commit by one assigner).

-- What a source system currently says about one entity; every version is kept in ref_source_versions.
CREATE TABLE ref_source_records (
  referential text NOT NULL,
  source_system text NOT NULL,
  source_id text NOT NULL,
  version integer NOT NULL,
  attributes jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (referential, source_system, source_id)
);

CREATE TABLE ref_source_versions (
  referential text NOT NULL,
  source_system text NOT NULL,
  source_id text NOT NULL,
  version integer NOT NULL,
  attributes jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (referential, source_system, source_id, version)
);

-- The hub's answer for one entity; attributes are {attr: {value, source: {system, id}, at}}.
CREATE TABLE ref_golden (
  id text PRIMARY KEY,
  referential text NOT NULL,
  version integer NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'merged', 'retired')),
  merged_into text REFERENCES ref_golden (id),
  attributes jsonb NOT NULL,
  -- What fuzzy matching compares: the blocking text (trigram search) and the fields the module scores.
  blocking_text text,
  match_fields jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK ((status = 'merged') = (merged_into IS NOT NULL))
);
CREATE INDEX ref_golden_blocking ON ref_golden USING gin (blocking_text gin_trgm_ops) WHERE status = 'active';
CREATE INDEX ref_golden_merged_into ON ref_golden (merged_into) WHERE merged_into IS NOT NULL;

-- Append-only: one row per version and per restoration (an unmerge restores earlier version numbers), hence seq.
CREATE TABLE ref_golden_history (
  seq bigserial PRIMARY KEY,
  golden_id text NOT NULL REFERENCES ref_golden (id),
  referential text NOT NULL,
  version integer NOT NULL,
  status text NOT NULL,
  merged_into text,
  attributes jsonb NOT NULL,
  links jsonb NOT NULL,
  cause text NOT NULL CHECK (cause IN ('contribution', 'merge', 'unmerge', 'steward', 'review')),
  valid_from timestamptz NOT NULL
);
CREATE INDEX ref_golden_history_asof ON ref_golden_history (golden_id, valid_from, seq);

CREATE TABLE ref_links (
  referential text NOT NULL,
  source_system text NOT NULL,
  source_id text NOT NULL,
  golden_id text NOT NULL REFERENCES ref_golden (id),
  how text NOT NULL CHECK (how IN ('new', 'identifier', 'score', 'steward')),
  detail jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL,
  PRIMARY KEY (referential, source_system, source_id),
  FOREIGN KEY (referential, source_system, source_id) REFERENCES ref_source_records (referential, source_system, source_id)
);
CREATE INDEX ref_links_golden ON ref_links (golden_id);

-- The unique key is what stops two concurrent contributions with one CIN from making two golden records.
CREATE TABLE ref_natural_keys (
  referential text NOT NULL,
  key_type text NOT NULL,
  key_value text NOT NULL,
  golden_id text NOT NULL REFERENCES ref_golden (id),
  PRIMARY KEY (referential, key_type, key_value)
);
CREATE INDEX ref_natural_keys_golden ON ref_natural_keys (golden_id);

CREATE TABLE ref_review_items (
  id bigserial PRIMARY KEY,
  referential text NOT NULL,
  source_system text NOT NULL,
  source_id text NOT NULL,
  golden_id text NOT NULL REFERENCES ref_golden (id),
  candidates jsonb NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'distinct')),
  linked_to text,
  decided_by text,
  decided_at timestamptz,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ref_review_items_open ON ref_review_items (referential, id) WHERE status = 'open';

-- A remembered "these are two entities": stored once, smaller id first.
CREATE TABLE ref_distinct_pairs (
  referential text NOT NULL,
  golden_a text NOT NULL,
  golden_b text NOT NULL,
  decision_id bigint NOT NULL,
  PRIMARY KEY (referential, golden_a, golden_b),
  CHECK (golden_a < golden_b)
);
CREATE INDEX ref_distinct_pairs_b ON ref_distinct_pairs (referential, golden_b);

-- Merge, unmerge, distinct: who, when, why; a merge keeps the exact state that its unmerge restores.
CREATE TABLE ref_steward_decisions (
  id bigserial PRIMARY KEY,
  referential text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('merge', 'unmerge', 'distinct')),
  actor text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  detail jsonb NOT NULL,
  undone_by bigint REFERENCES ref_steward_decisions (id)
);

-- One row per golden-record change. position stays NULL until the single assigner numbers committed rows.
CREATE TABLE ref_changes (
  id bigserial PRIMARY KEY,
  position bigint UNIQUE,
  referential text NOT NULL,
  golden_id text NOT NULL,
  version integer NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  outbox_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ref_changes_unpositioned ON ref_changes (id) WHERE position IS NULL;
