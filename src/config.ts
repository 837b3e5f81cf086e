// The hub's configuration: parsed once at start from the environment (and an optional file); nothing else reads process.env.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const partPattern = /^[A-Za-z0-9._-]{1,64}$/;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  HUB_ID: z
    .string()
    .default('MA/GOV/HUB/core')
    .refine((v) => {
      const parts = v.split('/');
      return parts.length === 4 && parts.every((p) => partPattern.test(p));
    }, 'must be INSTANCE/CLASS/CODE/SUBSYSTEM, each part [A-Za-z0-9._-]{1,64}'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /** The demo world (member subsystems, a BTP simulator, signed conventions): auto loads it on an empty embedded database. */
  DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  /** The demo's simulated systems make a little activity of their own (a ticket, a booking…) every few seconds; off stops it. */
  /** HTTP processes `tabadol serve` runs on its port (src/hub/supervisor.ts); default 1 on the embedded database, which admits one process, else the number of cores. */
  PROCESSES: z.coerce.number().int().min(1).max(256).optional(),
  DEMO_ACTIVITY: z.enum(['on', 'off']).default('on'),
  /** The hub's signing keys; default DATA_DIR/hub-keys.json, created on first start. Share one file across processes. */
  HUB_KEY_FILE: z.string().min(1).optional(),
  /** `tabadol backup` and `restore`: the passphrase that encrypts the hub's keys and seals the backup (or --passphrase-file). */
  TABADOL_BACKUP_PASSPHRASE: z.string().min(12, 'must have at least 12 characters').optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  /** How long an exchange's body may take to arrive once its signature is checked; a body that stalls is cut (408). */
  BODY_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  OUTBOX_REDRIVE_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(10),
  /** Sync (docs/sync.md): how long a push may take before it counts as failed. */
  SYNC_PUSH_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(300).default(10),
  /** Attempts of a delivery before the dead letters, and the age past which a failing one goes there anyway. */
  SYNC_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(20),
  SYNC_MAX_AGE_HOURS: z.coerce.number().min(0.001).max(24 * 30).default(36),
  /** First retry delay of a failed delivery; each next one doubles (with jitter) up to SYNC_BACKOFF_MAX_SECONDS. */
  SYNC_BACKOFF_BASE_SECONDS: z.coerce.number().min(0.01).max(3600).default(1),
  SYNC_BACKOFF_MAX_SECONDS: z.coerce.number().min(0.01).max(86_400).default(3 * 3600),
  /** Consecutive failed sends that open a subscription's circuit; it stays open from CIRCUIT_SECONDS, doubling to 5 min. */
  SYNC_CIRCUIT_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  SYNC_CIRCUIT_SECONDS: z.coerce.number().min(0.01).max(3600).default(5),
  /** A sender holds a subscription this long without news before another process may take it over. */
  SYNC_LEASE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  /** How often each worker process looks at the change feed and at deliveries due. */
  SYNC_TICK_MS: z.coerce.number().int().min(10).max(60_000).default(200),
});

export type Config = z.infer<typeof configSchema>;

/** A configuration error: one line naming the variable and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const secretKeys = new Set(['DATABASE_URL', 'REDIS_URL', 'TABADOL_BACKUP_PASSPHRASE']);

type Source = Record<string, string | undefined>;

/** Reads a YAML or JSON file of KEY: value pairs; environment variables win over it. */
function readConfigFile(path: string): Source {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const doc: unknown = parseYaml(text);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`--config ${path}: must be a mapping of KEY: value`);
  }
  const out: Source = {};
  for (const [key, value] of Object.entries(doc)) out[key] = value === null ? undefined : String(value);
  return out;
}

export function loadConfig(env: Source, configFile?: string): Config {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const merged: Source = {};
  for (const key of Object.keys(configSchema.shape)) {
    // An empty variable counts as unset, as shells and compose files often produce them.
    const value = env[key] !== undefined && env[key] !== '' ? env[key] : fromFile[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const unknownKeys = Object.keys(fromFile).filter((k) => !(k in configSchema.shape));
  if (unknownKeys.length > 0) {
    throw new ConfigError(`--config ${configFile}: unknown setting ${unknownKeys[0]}`);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'configuration');
    // URLs may carry passwords: never echo them.
    const shown = secretKeys.has(variable) ? '' : ` (got ${JSON.stringify(merged[variable] ?? null)})`;
    throw new ConfigError(`${variable}: ${issue?.message ?? 'invalid'}${shown}`);
  }
  return parsed.data;
}
