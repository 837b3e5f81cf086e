// Batches of contributions: parsing (UTF-8, CSV columns, line numbers), then submit and process through a real queue
// on both drivers, chunk by chunk, idempotent by batch id.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CSV_COLUMNS } from '../referentials/generator/output.ts';
import { goldenService } from '../referentials/golden-service.ts';
import { personsModule, referentialModules } from '../referentials/index.ts';
import { compileServiceOpenApi } from '../src/exchange/openapi-service.ts';
import { ReferentialCatalog } from '../src/golden/catalog.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { createLogger } from '../src/observability/logger.ts';
import { OutboxRelay, processOutbox } from '../src/queue/outbox.ts';
import type { Worker } from '../src/queue/queue.ts';
import { BatchRefusedError, batchConsumer, batchStatus, batchTopic, parseBatch, submitBatch } from '../src/golden/batches.ts';
import { findBySource } from '../src/golden/reads.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';
import { openTestQueue } from './helpers/queues.ts';
import { routedRequest, serviceContract } from './helpers/routed-request.ts';
import { waitFor } from './helpers/wait.ts';

const logger = createLogger('silent');
const columns = [...(CSV_COLUMNS.persons ?? []), 'birthPlace'];
const bytes = (text: string) => new TextEncoder().encode(text);

const firstNames = ['Amina', 'Youssef', 'Khadija', 'Omar', 'Salma', 'Hamza', 'Imane', 'Mehdi', 'Nadia', 'Rachid'];
const lastNames = ['Alaoui', 'Bennani', 'Chraibi', 'Daoudi', 'El Fassi', 'Filali', 'Guessous', 'Hajji', 'Idrissi', 'Jettou', 'Kettani'];
const person = (i: number) => ({
  cin: `BK${String(100001 + i).slice(1)}`,
  firstNameLatin: firstNames[i % firstNames.length],
  lastNameLatin: lastNames[i % lastNames.length],
  birthDate: `${1950 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
  sex: i % 2 ? 'M' : 'F',
});
const sum = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

describe('parseBatch', () => {
  it('refuses bytes that are not UTF-8', () => {
    const bad = new Uint8Array([...bytes('{"sourceId":"a","attributes":{"lastNameLatin":"'), 0xff, 0xfe, ...bytes('"}}\n')]);
    expect(() => parseBatch(bad, 'ndjson')).toThrow(BatchRefusedError);
    expect(() => parseBatch(bad, 'ndjson')).toThrow(/not UTF-8/);
  });

  it('refuses a CSV without sourceId or with unknown columns', () => {
    expect(() => parseBatch(bytes('cin,lastNameLatin\nAB1,X\n'), 'csv', columns)).toThrow(/no sourceId column/);
    try {
      parseBatch(bytes('sourceId,cin,shoeSize\na,AB1,42\n'), 'csv', columns);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BatchRefusedError);
      expect((err as BatchRefusedError).problems).toEqual([expect.objectContaining({ location: 'header.shoeSize' })]);
    }
  });

  it('reads CSV with quotes, nested columns and line numbers; bad lines are row errors', () => {
    const rows = parseBatch(bytes('\ufeffsourceSystem,sourceId,lastNameLatin,address\nx,a,"Ben ""Ali""","1, rue\nde Fès"\nx,b,Short\n\nx,,Y,Z\n'), 'csv', columns);
    expect(rows).toEqual([
      // The row's sourceSystem is kept beside its attributes (the CLI's import may use it; a batch's own source wins).
      { line: 2, sourceId: 'a', sourceSystem: 'x', attributes: { lastNameLatin: 'Ben "Ali"', address: '1, rue\nde Fès' } },
      { line: 4, problems: [{ location: 'line', message: 'has 3 fields, the header has 4' }] },
      { line: 6, problems: [{ location: 'sourceId', message: 'is required' }] },
    ]);
    const nested = parseBatch(bytes('sourceId,rc.number,rc.court\nc1,1234,Casablanca\n'), 'csv', CSV_COLUMNS.companies);
    expect(nested).toEqual([{ line: 2, sourceId: 'c1', attributes: { rc: { number: '1234', court: 'Casablanca' } } }]);
  });

  it('reads CSV strictly: a malformed row is that row\'s rejection, a malformed header refuses the upload', () => {
    const rows = parseBatch(bytes('sourceId,lastNameLatin\na,"ab"cd\nb,x"y\nc,Ok\n'), 'csv', columns);
    expect(rows).toEqual([
      { line: 2, problems: [{ location: 'line', message: 'unexpected "c" after a closing quote' }] },
      { line: 3, problems: [{ location: 'line', message: 'quote inside an unquoted field (after "x")' }] },
      { line: 4, sourceId: 'c', attributes: { lastNameLatin: 'Ok' } },
    ]);
    expect(() => parseBatch(bytes('sourceId,"last"Name\na,b\n'), 'csv', columns)).toThrow(BatchRefusedError);
  });

  it('reads NDJSON; a line that is not JSON or has no sourceId is a row error with its line number', () => {
    const rows = parseBatch(bytes('{"sourceId":"a","attributes":{"cin":"AB1"}}\r\nnot json\n\n{"attributes":{}}\n'), 'ndjson');
    expect(rows).toEqual([
      { line: 1, sourceId: 'a', attributes: { cin: 'AB1' } },
      { line: 2, problems: [{ location: 'line', message: 'is not valid JSON' }] },
      { line: 4, problems: [{ location: 'sourceId', message: 'is required (a non-empty string)' }] },
    ]);
  });
});

describe('the batch operations in the OpenAPI documents', () => {
  it('take NDJSON and CSV bodies as strings, and a batchId', () => {
    for (const name of ['persons', 'companies', 'vehicles']) {
      const service = compileServiceOpenApi(readFileSync(new URL(`../contracts/MA.GOV.HUB.referentials/${name}/openapi.yaml`, import.meta.url), 'utf8'));
      const submit = service.match('POST', '/batches');
      expect(submit?.operationId).toBe('submitBatch');
      const input = { pathParams: {}, headers: () => undefined };
      expect(submit?.validateRequest({ ...input, query: new URLSearchParams('batchId=b-1'), contentType: 'text/csv', body: 'sourceId,cin\na,AB1\n' })).toEqual([]);
      expect(submit?.validateRequest({ ...input, query: new URLSearchParams('batchId=b-1'), contentType: 'application/x-ndjson', body: '{}\n' })).toEqual([]);
      expect(submit?.validateRequest({ ...input, query: new URLSearchParams(''), contentType: 'text/csv', body: 'x' }).map((e) => e.location)).toContain('query.batchId');
      expect(submit?.validateRequest({ ...input, query: new URLSearchParams('batchId=b'), contentType: 'application/json', body: {} }).map((e) => e.location)).toContain('header.content-type');
      expect(service.match('GET', '/batches/b-1')?.operationId).toBe('getBatch');
    }
  });
});

describe.each(drivers())('batches on %s through the queue', (driver) => {
  let t: TestDb;
  let q: ReturnType<typeof openTestQueue>;
  let relay: OutboxRelay;
  let worker: Worker;

  beforeEach(async () => {
    t = await openTestDb(driver);
    q = openTestQueue('memory');
    const consumer = batchConsumer(new ReferentialCatalog(referentialModules), { chunkSize: 7 });
    worker = processOutbox({ db: t.db, queue: q.queue, logger }, consumer.topic, consumer.handler);
    relay = new OutboxRelay({ db: t.db, queue: q.queue, logger, pollIntervalMs: 30, backoffMs: 10, attempts: 3 });
    relay.start();
  });
  afterEach(async () => {
    await relay.stop();
    await worker.close();
    await q.dispose();
    await t.dispose();
  });

  it('applies good rows, reports bad ones by line, and a resend changes nothing', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ sourceId: `s${i}`, attributes: person(i) }));
    lines.splice(5, 0, '{oops');
    lines.splice(12, 0, JSON.stringify({ sourceId: 'bad-date', attributes: { ...person(99), birthDate: '2999-13-45' } }));
    const rows = parseBatch(bytes(`${lines.join('\n')}\n`), 'ndjson');
    const submitted = await submitBatch(t.db, { referential: 'persons', sourceSystem: 'civil-registry', batchId: 'b-1', format: 'ndjson', rows });
    expect(submitted).toEqual({ batchId: 'b-1', status: 'queued', total: 22, resent: false });

    await waitFor(async () => (await batchStatus(t.db, 'civil-registry', 'b-1'))?.status === 'done', 'the batch done', { timeoutMs: 30_000 });
    const status = await batchStatus(t.db, 'civil-registry', 'b-1');
    expect(status).toMatchObject({ total: 22, processed: 22, applied: 20, rejected: 2 });
    expect(sum(status?.decisions)).toBe(20);
    expect(status?.errors.map((e) => e.line)).toEqual([6, 13]);
    expect(status?.errors[0]?.problems[0]?.message).toBe('is not valid JSON');
    expect(status?.errors[1]?.sourceId).toBe('bad-date');
    expect(status?.errors[1]?.problems.some((p) => /birthDate/.test(p.location))).toBe(true);
    expect(await findBySource(t.db, 'persons', { system: 'civil-registry', id: 's19' })).toBeDefined();
    // 21 pending rows (one line was refused when read) in chunks of 7: three outbox rows, all delivered.
    const { rows: outbox } = await t.db.query<{ n: number; delivered: number }>(
      'SELECT count(*)::int AS n, count(delivered_at)::int AS delivered FROM outbox WHERE topic = $1',
      [batchTopic],
    );
    expect(outbox[0]).toEqual({ n: 3, delivered: 3 });

    // The same id again, even with other content: nothing is written, the status is answered.
    const versions = await t.db.query('SELECT count(*)::int AS n, sum(version)::int AS versions FROM ref_source_records');
    const again = await submitBatch(t.db, { referential: 'persons', sourceSystem: 'civil-registry', batchId: 'b-1', format: 'ndjson', rows: rows.slice(0, 3) });
    expect(again).toEqual({ batchId: 'b-1', status: 'done', total: 22, resent: true });
    const { rows: after } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE topic = $1', [batchTopic]);
    expect(after[0]?.n).toBe(3);
    expect((await t.db.query('SELECT count(*)::int AS n, sum(version)::int AS versions FROM ref_source_records')).rows).toEqual(versions.rows);
    expect(await t.db.query('SELECT count(*)::int AS n FROM ref_source_versions').then((r) => r.rows)).toEqual([{ n: 0 }]);
    // Another source may use the same batch id: ids are scoped by source.
    const other = await submitBatch(t.db, { referential: 'persons', sourceSystem: 'marroute', batchId: 'b-1', format: 'ndjson', rows: rows.slice(0, 2) });
    expect(other.resent).toBe(false);
    await waitFor(async () => (await batchStatus(t.db, 'marroute', 'b-1'))?.status === 'done', 'the batch done', { timeoutMs: 30_000 });
    expect(await batchStatus(t.db, 'marroute', 'b-1')).toMatchObject({ applied: 2, decisions: { 'linked-identifier': 2 } });
  });

  it('a chunk delivered again applies nothing twice', async () => {
    const rows = parseBatch(bytes(`${[0, 1, 2].map((i) => JSON.stringify({ sourceId: `r${i}`, attributes: person(i) })).join('\n')}\n`), 'ndjson');
    await submitBatch(t.db, { referential: 'persons', sourceSystem: 'cnss', batchId: 'again', format: 'ndjson', rows });
    await waitFor(async () => (await batchStatus(t.db, 'cnss', 'again'))?.status === 'done', 'the batch done', { timeoutMs: 30_000 });
    // Simulate a re-delivery of the batch's job: the handler finds no pending row.
    const consumer = batchConsumer(new ReferentialCatalog(referentialModules));
    await t.db.transaction((tx) => consumer.handler({ sourceSystem: 'cnss', batchId: 'again' }, tx));
    const status = await batchStatus(t.db, 'cnss', 'again');
    expect(status).toMatchObject({ applied: 3, processed: 3 });
    expect(sum(status?.decisions)).toBe(3);
    const { rows: versions } = await t.db.query<{ n: number; v: number }>(`SELECT count(*)::int AS n, max(version)::int AS v FROM ref_source_records WHERE source_system = 'cnss'`);
    expect(versions[0]).toEqual({ n: 3, v: 1 });
    expect(await t.db.query(`SELECT count(*)::int AS n FROM ref_source_versions WHERE source_system = 'cnss'`).then((r) => r.rows)).toEqual([{ n: 0 }]);
  });

  it('the golden service takes a batch (202), refuses a bad one whole (422) and answers its status', async () => {
    const service = goldenService(personsModule as unknown as ReferentialModule, t.db);
    const personsContract = serviceContract('MA/GOV/HUB/referentials/persons');
    const call = (method: string, pathAndQuery: string, body: string | Uint8Array, contentType?: string) =>
      service.handle(routedRequest(personsContract, {
        serviceId: 'MA/GOV/HUB/referentials/persons',
        method,
        pathAndQuery,
        headers: contentType ? { 'content-type': contentType } : {},
        body: typeof body === 'string' ? bytes(body) : body,
        client: 'MA/GOV/DGSN/cin',
        purpose: 'test',
        requestId: 'r1',
      }), new AbortController().signal);
    const parse = (r: { body: Uint8Array | string }) => JSON.parse(typeof r.body === 'string' ? r.body : Buffer.from(r.body).toString('utf8')) as Record<string, unknown>;
    const csv = `sourceId,cin,firstNameLatin,lastNameLatin,birthDate,sex\nd1,${person(1).cin},Amina,Alaoui,1980-02-03,F\nd2,,,,,\n`;

    const wrong = await call('POST', '/batches?batchId=c-0', 'sourceId,shoeSize\na,1\n', 'text/csv');
    expect(wrong.status).toBe(422);
    expect(parse(wrong).errors).toEqual([expect.objectContaining({ location: 'body.header.shoeSize' })]);
    const latin1 = await call('POST', '/batches?batchId=c-0', new Uint8Array([0x73, 0x6f, 0x75, 0xe8, 0x0a]), 'text/csv');
    expect(latin1.status).toBe(422);
    expect((await t.db.query('SELECT 1 FROM ref_batches')).rows).toEqual([]);

    const sent = await call('POST', '/batches?batchId=c-1', csv, 'text/csv; charset=utf-8');
    expect(sent.status).toBe(202);
    expect(parse(sent)).toEqual({ batchId: 'c-1', status: 'queued', total: 2, resent: false });
    await waitFor(async () => parse(await call('GET', '/batches/c-1', '')).status === 'done', 'the batch done', { timeoutMs: 30_000 });
    const status = parse(await call('GET', '/batches/c-1', ''));
    expect(status).toMatchObject({ total: 2, processed: 2, applied: 1, rejected: 1 });
    expect((status.errors as Array<{ line: number }>)[0]?.line).toBe(3);
    expect(parse(await call('POST', '/batches?batchId=c-1', csv, 'text/csv'))).toMatchObject({ status: 'done', resent: true });
    expect((await call('GET', '/batches/nope', '')).status).toBe(404);
    expect((await call('POST', '/batches?batchId=c-2', csv, 'application/json')).status).toBe(400);
  });
});
