// The message log's append alone (npx tsx bench/exchange-log.ts): what one exchange's row costs the hub process in CPU
// and in waiting, written the two ways MessageLog knows (docs/benchmarks.md, bench:exchange, "issue 19 items 2 and 3"): one statement
// after the head this instance last wrote, or the transaction of three round trips (BEGIN with the lock and the
// chain's state, INSERT, COMMIT). Rounds interleave the two on the same database, so that the machine's load weighs
// on both alike; `concurrency` appends are kept in flight (1: every exchange alone, as at a low steady rate).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { MessageLog, verifyLog, type LogEntry } from '../src/message-log/index.ts';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../src/storage/index.ts';
import { median, parseBenchArgs, positiveInt, round1, table } from './lib.ts';

type Way = 'one statement' | 'transaction';

function entry(i: number): LogEntry {
  // The size of a bench:exchange row: digests, the request's and the answer's compact JWS, two subjects.
  return {
    at: new Date(),
    requestId: `0f8fad5b-d9cb-469f-a165-${String(i).padStart(12, '0')}`,
    client: 'MA/GOV/MEF/marches-publics',
    service: 'MA/GOV/METLE/qualification-btp/classification',
    operation: 'getFixed',
    purpose: 'public-procurement-eligibility',
    conventionId: 'bench-btp-mef',
    conventionVersion: 1,
    status: 200,
    durationMs: 3.25,
    providerMs: 0.8,
    requestDigest: 'x'.repeat(43),
    responseDigest: 'y'.repeat(43),
    requestSignature: 'h'.repeat(420),
    responseSignature: 'r'.repeat(380),
    subjects: [{ type: 'ice', hmac: `${i}`.padStart(43, 's'), location: 'path' }],
  };
}

/** `count` appends, `concurrency` in flight; the process's CPU and the wall time per row. */
async function run(log: MessageLog, count: number, concurrency: number, offset: number): Promise<{ cpuUs: number; wallUs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await log.append(entry(offset + next++));
    }),
  );
  const wallUs = ((performance.now() - started) * 1000) / count;
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / count, wallUs };
}

async function main(): Promise<void> {
  const values = parseBenchArgs(
    process.argv.slice(2),
    { rows: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' } },
    ['usage: npx tsx bench/exchange-log.ts [--rows=N (2000)] [--rounds=N (3)] [--concurrency=N (1)]', 'environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a schema of its own, dropped)'],
  );
  const rows = positiveInt('rows', values.rows, 2000);
  const rounds = positiveInt('rounds', values.rounds, 3);
  const concurrency = positiveInt('concurrency', values.concurrency, 1);
  process.stdout.write(
    `bench:exchange-log  ${rows} appends per run, ${concurrency} in flight, ${rounds} rounds of both ways interleaved, on PostgreSQL\n` +
      `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const keysDir = mkdtempSync(join(tmpdir(), 'tabadol-bench-log-'));
  const databaseUrl = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_log_${randomBytes(6).toString('hex')}`;
  const t = { db: await openDatabase({ databaseUrl, dataDir: '', schema }) };
  try {
    const keyring = new HubKeyring('MA/GOV/HUB/core', await loadOrCreateHubKeys({ dataDir: keysDir }));
    const results: Record<Way, Array<{ cpuUs: number; wallUs: number }>> = { 'one statement': [], transaction: [] };
    let offset = 0;
    for (let round = 0; round < rounds; round++) {
      for (const way of ['transaction', 'one statement'] as const) {
        const log = new MessageLog({ db: t.db, keyring, checkpointEveryRows: 1000, checkpointEverySeconds: 3600 });
        // A MessageLog that found the head moved writes its next flushes as transactions: held there for good, it
        // is the way every flush was written before the one-statement path.
        if (way === 'transaction') (log as unknown as { slowFlushes: number }).slowFlushes = Number.POSITIVE_INFINITY;
        await run(log, 50, concurrency, offset); // warm-up: the first batch reads the chain in a transaction either way
        offset += 50;
        const result = await run(log, rows, concurrency, offset);
        offset += rows;
        await log.close();
        results[way].push(result);
        process.stdout.write(`  round ${round + 1}  ${way.padEnd(13)}  cpu ${result.cpuUs.toFixed(1)} µs/row  wall ${result.wallUs.toFixed(1)} µs/row\n`);
      }
    }
    const verified = await verifyLog(t.db, keyring);
    if (!verified.ok) throw new Error(`the chain does not verify: ${JSON.stringify(verified.problems.slice(0, 3))}`);
    const summary = (way: Way) => ({ cpu: median(results[way].map((r) => r.cpuUs)), wall: median(results[way].map((r) => r.wallUs)) });
    const tx = summary('transaction');
    const one = summary('one statement');
    process.stdout.write(
      '\n' +
        table(
          ['way', 'hub CPU µs/row', 'wall µs/row'],
          [
            ['transaction (3 round trips)', round1(tx.cpu).toFixed(1), round1(tx.wall).toFixed(1)],
            ['one statement (1 round trip)', round1(one.cpu).toFixed(1), round1(one.wall).toFixed(1)],
          ],
        ) +
        `\n\none statement / transaction: CPU ${(one.cpu / tx.cpu).toFixed(2)}, wall ${(one.wall / tx.wall).toFixed(2)}; chain verified (${verified.rowsChecked} rows)\n`,
    );
  } finally {
    await t.db.close();
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
    rmSync(keysDir, { recursive: true, force: true });
  }
}

await main();
