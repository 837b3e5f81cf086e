-- The operator console (src/console): a third role (steward: referentials and review), passwords for operators who
-- sign in with one (`tabadol operator passwd`, scrypt), and the console's sessions, kept in the database so that any
-- hub process serves a session that another one opened.
ALTER TABLE operators DROP CONSTRAINT operators_role_check;
ALTER TABLE operators ADD CONSTRAINT operators_role_check CHECK (role IN ('admin', 'steward', 'auditor'));
-- scrypt$N$r$p$salt$hash (base64url); NULL: this operator signs in with its token only.
ALTER TABLE operators ADD COLUMN password_hash text;

CREATE TABLE console_sessions (
  -- SHA-256 of the cookie's secret: a leaked table gives no usable session.
  id_hash text PRIMARY KEY,
  operator_id text NOT NULL REFERENCES operators (id),
  -- The form token of this session (sent back in every form, compared in constant time).
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_sessions_operator ON console_sessions (operator_id);
