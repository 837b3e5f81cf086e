// Runs the hub's adapters (HubParts.syncAdapters) in a process that runs workers: each adapter's pulls on its schedule
// (one puller per adapter across processes, by a lease on its cursor row), its drop folder, and the ingest worker of
// each system. What a pull or a file brings is written to the ingest queue in the same transaction that moves the
// cursor (or before the file is moved to done/), so nothing read is lost and a crash re-reads at most one pull.
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import type { Queue, Worker } from '../queue/queue.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { isQuarantine, type AdapterContext, type AdapterHealth, type SyncAdapter } from './adapter.ts';
import { queueInbound, startIngestWorkers, type IngestPayload, type ModuleResolver } from './ingest.ts';
import type { DeliveryHandler } from './push.ts';

export interface SyncAdaptersDeps {
  db: Db;
  queue: Queue;
  logger: Logger;
  resolve: ModuleResolver;
  reportBackgroundFailure: BackgroundFailureReport;
  /** Asked for a relay pass after records were queued (the relay polls anyway). */
  relay?: { notify(): void };
  /** How often to look for pulls and files due (default 250 ms). */
  tickMs?: number;
  /** A pull that takes longer is aborted and counted as failed (default 60 s). */
  pullTimeoutMs?: number;
}

export type PullOutcome = 'pulled' | 'not-due' | 'failed' | 'busy';

export interface RunningAdapters {
  /** Pulls the adapter now if it is due and no one else pulls it (tests, `tabadol sync pull`). */
  pullNow(adapterId: string): Promise<PullOutcome>;
  /** Takes the adapter's drop folder's files now. */
  scanNow(adapterId: string): Promise<void>;
  health(): Promise<Record<string, AdapterHealth>>;
  stop(): Promise<void>;
}

/** Upper bound of the wait after failed pulls, whatever `every` is. */
const maxBackoffMs = 5 * 60_000;
const maxDroppedFileBytes = 64 * 1024 * 1024;

/** Stores an adapter's configuration (checked against its schema first); the next pull reads it. */
export async function configureAdapter(db: Queryable, adapter: SyncAdapter, raw: unknown): Promise<void> {
  const parsed = adapter.config.safeParse(raw);
  if (!parsed.success) throw new Error(`adapter ${adapter.id}: configuration refused: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  await db.query(
    `INSERT INTO sync_adapter_cursors (adapter, system, config) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (adapter) DO UPDATE SET config = EXCLUDED.config, next_pull_at = NULL, updated_at = now()`,
    [adapter.id, adapter.system, JSON.stringify(parsed.data ?? null)],
  );
}

export interface AdapterStatus {
  adapter: string;
  system: string;
  cursor: string | null;
  lastPullAt: Date | null;
  lastSuccessAt: Date | null;
  nextPullAt: Date | null;
  lastError: string | null;
  errors: number;
  consecutiveErrors: number;
  pulled: number;
}

/** Per adapter: last pull, cursor, errors (what an operator sees, docs/sync.md). */
export async function adapterStatuses(db: Queryable): Promise<AdapterStatus[]> {
  const { rows } = await db.query<{ adapter: string; system: string; cursor: string | null; last_pull_at: Date | null; last_success_at: Date | null; next_pull_at: Date | null; last_error: string | null; errors: string; consecutive_errors: number; pulled_count: string }>(
    `SELECT adapter, system, cursor, last_pull_at, last_success_at, next_pull_at, last_error, errors, consecutive_errors, pulled_count FROM sync_adapter_cursors ORDER BY adapter`,
  );
  return rows.map((r) => ({
    adapter: r.adapter, system: r.system, cursor: r.cursor, lastPullAt: r.last_pull_at, lastSuccessAt: r.last_success_at, nextPullAt: r.next_pull_at,
    lastError: r.last_error, errors: Number(r.errors), consecutiveErrors: r.consecutive_errors, pulled: Number(r.pulled_count),
  }));
}

/** The adapter's configuration: the stored one, or the schema's defaults when none is stored. */
export async function adapterConfig(db: Queryable, adapter: SyncAdapter): Promise<{ ok: true; config: unknown } | { ok: false; error: string }> {
  const { rows } = await db.query<{ config: unknown }>('SELECT config FROM sync_adapter_cursors WHERE adapter = $1', [adapter.id]);
  const parsed = adapter.config.safeParse(rows[0]?.config ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, error: `not configured: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`.slice(0, 500) };
}

/**
 * The push sender's handler of an adapter's `adapter:<id>` target: reads the adapter's stored configuration at each
 * batch (one row by key; an operator's configureAdapter applies from the next batch, in every process) and hands it
 * to the adapter's deliver. Unconfigured or refused by the schema: an ordinary failure, retried by the push worker.
 */
export function adapterDeliveryHandler(adapter: SyncAdapter, deps: { db: Queryable; logger: Logger }): DeliveryHandler | undefined {
  const deliver = adapter.deliver;
  if (!deliver) return undefined;
  const logger = deps.logger.child({ adapter: adapter.id });
  return async (push, signal) => {
    const config = await adapterConfig(deps.db, adapter);
    if (!config.ok) throw new Error(`adapter ${adapter.id} is ${config.error}`);
    await deliver.call(adapter, push, { config: config.config, logger, signal });
  };
}

/** Starts the ingest workers and the adapters' schedules; the hub's one teardown calls stop(). */
export function startSyncAdapters(adapters: readonly SyncAdapter[], deps: SyncAdaptersDeps): RunningAdapters {
  const runner = new AdapterRunner(adapters, deps);
  runner.start();
  return runner;
}

class AdapterRunner implements RunningAdapters {
  private readonly byId: ReadonlyMap<string, SyncAdapter>;
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly busy = new Set<string>();
  private readonly lastScan = new Map<string, number>();
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private workers: Worker[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    adapters: readonly SyncAdapter[],
    private readonly deps: SyncAdaptersDeps,
  ) {
    const byId = new Map<string, SyncAdapter>();
    for (const a of adapters) {
      if (byId.has(a.id)) throw new Error(`two sync adapters are named ${a.id}`);
      byId.set(a.id, a);
    }
    this.byId = byId;
  }

  start(): void {
    if (this.byId.size === 0) return;
    // An adapter's afterIngest runs in its jobs' transactions (the payload names the adapter).
    const afterIngest = (adapterId: string, tx: Queryable, records: IngestPayload['records']) =>
      this.byId.get(adapterId)?.afterIngest?.(tx, records, { resolve: this.deps.resolve, logger: this.deps.logger.child({ adapter: adapterId }) }) ?? Promise.resolve();
    this.workers = startIngestWorkers({ ...this.deps, afterIngest }, [...this.byId.values()].map((a) => a.system));
    // Every adapter has its row before its first pull: the lease and the status live there.
    this.ready = this.ensureRows().catch((err: unknown) => this.deps.reportBackgroundFailure('sync-adapters-start', err));
    this.timer = setInterval(() => this.tickSoon(), this.deps.tickMs ?? 250);
    this.timer.unref();
    this.tickSoon();
  }

  private async ensureRows(): Promise<void> {
    const rows = [...this.byId.values()].map((a) => ({ adapter: a.id, system: a.system }));
    await this.deps.db.query(
      `INSERT INTO sync_adapter_cursors (adapter, system) SELECT x.adapter, x.system FROM jsonb_to_recordset($1::jsonb) AS x(adapter text, system text)
       ON CONFLICT (adapter) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  private tickSoon(): void {
    if (this.stopping.signal.aborted || this.ticking) return;
    this.ticking = this.tick()
      .catch((err: unknown) => this.deps.reportBackgroundFailure('sync-adapters-tick', err))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  /** Starts, without waiting for them, the pulls and scans due; each adapter runs one at a time in this process. */
  private async tick(): Promise<void> {
    await this.ready;
    for (const adapter of this.byId.values()) {
      if (adapter.pull) this.track(this.pullNow(adapter.id));
      const every = adapter.dropFolder?.every ?? 1000;
      if (adapter.dropFolder && Date.now() - (this.lastScan.get(adapter.id) ?? 0) >= every) {
        this.lastScan.set(adapter.id, Date.now());
        this.track(this.scanNow(adapter.id).catch((err: unknown) => this.deps.reportBackgroundFailure('sync-drop-folder', err, { adapter: adapter.id })));
      }
    }
  }

  /** Work started by a tick, awaited by stop() (each one reports its own failures). */
  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private context(adapter: SyncAdapter, config: unknown, timeoutMs: number): AdapterContext<unknown> {
    return { config, logger: this.deps.logger.child({ adapter: adapter.id }), signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]) };
  }

  async pullNow(adapterId: string): Promise<PullOutcome> {
    const adapter = this.byId.get(adapterId);
    if (!adapter?.pull || this.stopping.signal.aborted) return 'not-due';
    if (this.busy.has(adapter.id)) return 'busy';
    this.busy.add(adapter.id);
    try {
      return await this.pull(adapter, adapter.pull);
    } catch (err) {
      // The database failed us (the adapter's own failures are recorded by pull): the lease lapses, the next tick retries.
      this.deps.reportBackgroundFailure('sync-pull', err, { adapter: adapter.id });
      return 'failed';
    } finally {
      this.busy.delete(adapter.id);
    }
  }

  /**
   * One pull: claim the lease if the pull is due, read from the system, then in one transaction queue what came and
   * move the cursor. A failure leaves the cursor where it was and records the error and when to try again.
   */
  private async pull(adapter: SyncAdapter, pull: NonNullable<SyncAdapter['pull']>): Promise<PullOutcome> {
    const { db, logger } = this.deps;
    const timeoutMs = this.deps.pullTimeoutMs ?? 60_000;
    const { rows } = await db.query<{ cursor: string | null; config: unknown }>(
      `UPDATE sync_adapter_cursors SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::float8)
        WHERE adapter = $1 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2) AND (next_pull_at IS NULL OR next_pull_at <= now())
        RETURNING cursor, config`,
      [adapter.id, this.owner, timeoutMs / 1000 + 30],
    );
    const claimed = rows[0];
    if (!claimed) return 'not-due';
    const config = adapter.config.safeParse(claimed.config ?? {});
    if (!config.success) {
      // Not yet configured (a plug-in may configure it after start): said in the status, not counted as a failure.
      await db.query(
        `UPDATE sync_adapter_cursors SET last_error = $3, next_pull_at = now() + make_interval(secs => $4::float8), lease_owner = NULL, lease_until = NULL, updated_at = now()
          WHERE adapter = $1 AND lease_owner = $2`,
        [adapter.id, this.owner, `not configured: ${config.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`.slice(0, 1000), pull.every / 1000],
      );
      return 'not-due';
    }
    let result;
    try {
      result = await pull.run(this.context(adapter, config.data, timeoutMs), claimed.cursor);
      if (result.cursor !== null && (typeof result.cursor !== 'string' || result.cursor.length > 4096)) throw new Error('the pull returned a cursor that is not a string of at most 4096 characters');
      const next = result;
      await db.transaction(async (tx) => {
        await queueInbound(tx, adapter, next.records);
        const { rowCount } = await tx.query(
          `UPDATE sync_adapter_cursors SET cursor = $3, last_pull_at = now(), last_success_at = now(), last_error = NULL, consecutive_errors = 0,
                  pulled_count = pulled_count + $4, next_pull_at = now() + make_interval(secs => $5::float8), lease_owner = NULL, lease_until = NULL, updated_at = now()
            WHERE adapter = $1 AND lease_owner = $2`,
          [adapter.id, this.owner, next.cursor, next.records.length, next.more ? 0 : pull.every / 1000],
        );
        // Our lease ran out and another process pulled meanwhile: its cursor stands, these records are not queued.
        if (rowCount === 0) throw new Error('the pull outlived its lease; another process has pulled since');
      });
    } catch (err) {
      if (this.stopping.signal.aborted) {
        // Cut short by the hub stopping, not the system's fault: the cursor stays, the lease is let go, no error counted.
        await db.query('UPDATE sync_adapter_cursors SET lease_owner = NULL, lease_until = NULL WHERE adapter = $1 AND lease_owner = $2', [adapter.id, this.owner]);
        return 'failed';
      }
      const message = (err as Error).message || String(err);
      logger.warn({ adapter: adapter.id, system: adapter.system, err: { name: (err as Error).name, message } }, 'adapter pull failed; the cursor stays, the pull is retried');
      await this.failed(adapter, pull.every, message);
      return 'failed';
    }
    if (result.records.length > 0) this.deps.relay?.notify();
    return 'pulled';
  }

  /** Records a failed pull: the error, the count, and the next try after a backoff that doubles up to 5 minutes. */
  private async failed(adapter: SyncAdapter, everyMs: number, error: string): Promise<void> {
    await this.deps.db.query(
      `UPDATE sync_adapter_cursors SET last_pull_at = now(), last_error = $3, errors = errors + 1, consecutive_errors = consecutive_errors + 1,
              next_pull_at = now() + make_interval(secs => LEAST($4::float8 * power(2, consecutive_errors), $5::float8)),
              lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE adapter = $1 AND (lease_owner = $2 OR lease_owner IS NULL)`,
      [adapter.id, this.owner, error.slice(0, 1000), everyMs / 1000, Math.max(everyMs, maxBackoffMs) / 1000],
    );
  }

  async scanNow(adapterId: string): Promise<void> {
    const adapter = this.byId.get(adapterId);
    if (!adapter?.dropFolder || this.stopping.signal.aborted || this.busy.has(adapter.id)) return;
    this.busy.add(adapter.id);
    try {
      const config = await adapterConfig(this.deps.db, adapter);
      if (!config.ok) return;
      await this.scan(adapter, adapter.dropFolder, config.config);
    } finally {
      this.busy.delete(adapter.id);
    }
  }

  /**
   * Takes each file of the folder in name order: parsed whole first; refused as a whole (a report, or a parser that
   * throws) it goes to quarantine/ with its report and nothing of it is queued; otherwise its records are queued in one
   * transaction, then it moves to done/. A crash in between queues it again at the next scan: its versions are
   * already taken in, so nothing changes twice. Two processes scanning one folder may both queue a file, likewise.
   */
  private async scan(adapter: SyncAdapter, drop: NonNullable<SyncAdapter['dropFolder']>, config: unknown): Promise<void> {
    const folder = drop.path(config);
    const entries = await readdir(folder, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const files = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
    for (const name of files) {
      if (this.stopping.signal.aborted) return;
      const path = join(folder, name);
      const size = (await stat(path)).size;
      let parsed: Awaited<ReturnType<typeof drop.parse>>;
      try {
        parsed = size > maxDroppedFileBytes ? { quarantine: [{ line: 0, reason: `the file is larger than ${maxDroppedFileBytes} bytes` }] } : await drop.parse({ name, content: await readFile(path) }, config);
      } catch (err) {
        parsed = { quarantine: [{ line: 0, reason: `the adapter could not parse it: ${(err as Error).message}`.slice(0, 500) }] };
      }
      if (isQuarantine(parsed)) {
        await mkdir(join(folder, 'quarantine'), { recursive: true });
        await writeFile(join(folder, 'quarantine', `${name}.report.json`), `${JSON.stringify({ file: name, adapter: adapter.id, at: new Date().toISOString(), problems: parsed.quarantine }, null, 2)}\n`);
        await rename(path, join(folder, 'quarantine', name));
        this.deps.logger.warn({ adapter: adapter.id, file: name, problems: parsed.quarantine.length }, 'dropped file quarantined; nothing of it was taken in');
        continue;
      }
      const records = parsed;
      await this.deps.db.transaction((tx) => queueInbound(tx, adapter, records));
      await mkdir(join(folder, 'done'), { recursive: true });
      await rename(path, join(folder, 'done', name));
      this.deps.relay?.notify();
    }
  }

  async health(): Promise<Record<string, AdapterHealth>> {
    const out: Record<string, AdapterHealth> = {};
    for (const adapter of this.byId.values()) {
      const config = await adapterConfig(this.deps.db, adapter);
      if (!config.ok) {
        out[adapter.id] = { ok: false, detail: config.error };
        continue;
      }
      try {
        out[adapter.id] = await adapter.health(this.context(adapter, config.config, 10_000));
      } catch (err) {
        out[adapter.id] = { ok: false, detail: (err as Error).message };
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.workers.map((w) => w.close()));
    this.workers = [];
  }
}
