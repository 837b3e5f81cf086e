// Hostile input never reaches PostgreSQL as an error (issue 11, items 3 and 6): text it cannot store (U+0000, a lone
// surrogate), values nested too deep, positions beyond bigint, instants beyond timestamptz, JSON that is not UTF-8 and
// YAML alias bombs are each a 4xx problem naming the field, decided before any SQL, and nothing is written. The
// referential and transparency services are called as the hub's pipeline calls them (their adapter bindings), on
// both drivers; the admin API through a started hub.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenService } from '../referentials/golden-service.ts';
import { personsModule, referentialModules } from '../referentials/index.ts';
import { loadConfig } from '../src/config.ts';
import type { AdapterBinding, ProviderRequest, ProviderResponse } from '../src/exchange/bindings.ts';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { addOperator } from '../src/identity/operators.ts';
import type { ProblemBody } from '../src/http/problem.ts';
import { batchStatus, processBatch } from '../src/golden/batches.ts';
import { ReferentialCatalog } from '../src/golden/catalog.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import type { Queryable } from '../src/storage/db.ts';
import { transparencyBinding } from '../src/transparency/service.ts';
import { drivers, freshDataDir, openTestDb, type TestDb } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';

const persons = personsModule as unknown as ReferentialModule;
const client = 'MA/GOV/DGSN/cin';
const bytes = (text: string) => new TextEncoder().encode(text);
/** 100,000 nested arrays: JSON.parse reads it, but serialising it again (for SQL) overflows the stack. */
const deepArrays = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const good = { cin: 'BK12345', firstNameLatin: 'Amina', lastNameLatin: 'Alaoui', birthDate: '1980-02-03', sex: 'F' };

interface Problem {
  status: number;
  type: string;
  errors?: Array<{ location: string; message: string }>;
}

function problemOf(answer: ProviderResponse): Problem {
  expect(answer.headers['content-type']).toBe('application/problem+json');
  return JSON.parse(Buffer.from(answer.body).toString('utf8')) as Problem;
}

/** The answer is a 4xx problem of this code whose errors name this location (and say nothing of the database). */
function expectRefused(answer: ProviderResponse, status: number, code: string, location: string): void {
  expect(answer.status).toBe(status);
  const problem = problemOf(answer);
  expect(problem.type).toBe(`urn:tabadol:problem:${code}`);
  expect(problem.errors?.map((e) => e.location)).toContain(location);
  expect(JSON.stringify(problem)).not.toMatch(/syntax for type|Unicode escape|out of range|invalid byte sequence|call stack/i);
}

async function count(db: Queryable, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

describe.each(drivers())('referential and transparency services on %s', (driver) => {
  let t: TestDb;
  let dataDir: string;
  let transparency: AdapterBinding;

  // One database for the block (opening one is slow on a busy machine): each case checks its own tables' counts.
  beforeAll(async () => {
    t = await openTestDb(driver);
    dataDir = freshDataDir();
    transparency = transparencyBinding(t.db, new HubKeyring('MA/GOV/HUB/core', await loadOrCreateHubKeys({ dataDir })));
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const request = (serviceId: string, method: string, pathAndQuery: string, body: string | Uint8Array = '', contentType?: string): ProviderRequest => ({
    serviceId,
    operationId: 'x',
    method,
    pathAndQuery,
    headers: contentType ? { 'content-type': contentType } : {},
    body: typeof body === 'string' ? bytes(body) : body,
    client,
    purpose: 'test',
    requestId: 'r1',
  });
  const call = (method: string, pathAndQuery: string, body: string | Uint8Array = '', contentType = 'application/json') =>
    goldenService(persons, t.db).handle(request('MA/GOV/HUB/referentials/persons', method, pathAndQuery, body, body.length > 0 ? contentType : undefined), new AbortController().signal);
  const tables = ['ref_source_records', 'ref_source_versions', 'ref_golden', 'ref_changes', 'ref_batches', 'ref_batch_rows'];
  const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await count(t.db, table)] as const)));

  it('a contribution with U+0000, a lone surrogate or a too-deep value in an attribute or its sourceId is a 400 naming the field', async () => {
    const before = await counts();
    // Written as JSON text: "\u0000" and "\ud800" are JSON escapes, as a hostile client sends them.
    expectRefused(await call('POST', '/contributions', `{"sourceId":"s1","attributes":{"cin":"BK12345","lastNameLatin":"Ben\\u0000ani"}}`), 400, 'request-invalid', 'body.attributes.lastNameLatin');
    expectRefused(await call('POST', '/contributions', `{"sourceId":"s1","attributes":{"cin":"BK12345","firstNameLatin":"\\ud800"}}`), 400, 'request-invalid', 'body.attributes.firstNameLatin');
    expectRefused(await call('POST', '/contributions', JSON.stringify({ sourceId: 's\u00001', attributes: good })), 400, 'request-invalid', 'body.sourceId');
    expectRefused(await call('POST', '/contributions', JSON.stringify({ sourceId: 's1', attributes: { ...good, ['na\u0000me']: 'x' } })), 400, 'request-invalid', 'body.attributes.na\ufffdme');
    const deep = await call('POST', '/contributions', `{"sourceId":"s1","attributes":{"cin":"BK12345","notes":${deepArrays}}}`);
    expect(deep.status).toBe(400);
    expect(problemOf(deep).errors?.[0]?.location).toMatch(/^body\.attributes\.notes(\.0)+$/);
    expect(await counts()).toEqual(before);
  });

  it('a JSON body that is not UTF-8 is refused (400 naming body), not stored as U+FFFD', async () => {
    const before = await counts();
    const latin1 = new Uint8Array([...bytes('{"sourceId":"s1","attributes":{"cin":"BK12345","lastNameLatin":"F'), 0xe8, 0x73, ...bytes('"}}')]);
    expectRefused(await call('POST', '/contributions', latin1), 400, 'request-invalid', 'body');
    expectRefused(await call('POST', '/resolve', new Uint8Array([...bytes('{"items":[{"goldenId":"'), 0xff, ...bytes('"}]}')])), 400, 'request-invalid', 'body');
    expect(await counts()).toEqual(before);
  });

  it('resolve, search, by-source, changes and asOf refuse what PostgreSQL cannot hold, naming the parameter', async () => {
    const before = await counts();
    expectRefused(await call('POST', '/resolve', JSON.stringify({ items: [{ goldenId: 'g1' }, { source: { system: 'cnss', id: 'a\u0000b' } }] })), 400, 'request-invalid', 'body.items.1.source.id');
    expectRefused(await call('POST', '/resolve', `{"items":[{"key":{"type":"cin","value":"\\udc00"}}]}`), 400, 'request-invalid', 'body.items.0.key.value');
    expectRefused(await call('GET', '/search?q=Ben%00ani'), 400, 'request-invalid', 'query.q');
    expectRefused(await call('GET', '/by-source/MA.GOV.CNSS.x/a%00b'), 400, 'request-invalid', 'path.sourceId');
    expectRefused(await call('GET', '/by-key/rc/%ED%A0%80'), 400, 'request-invalid', 'path');
    expectRefused(await call('GET', '/changes?since=99999999999999999999999'), 400, 'request-invalid', 'query.since');
    expectRefused(await call('GET', '/changes?since=9223372036854775808'), 400, 'request-invalid', 'query.since');
    expectRefused(await call('GET', '/records/g1?asOf=0000-01-01T00:00:00Z'), 400, 'request-invalid', 'query.asOf');
    expectRefused(await call('GET', '/records/g1?asOf=10000-01-01T00:00:00Z'), 400, 'request-invalid', 'query.asOf');
    // The bounds themselves are served.
    expect((await call('GET', '/changes?since=9007199254740991')).status).toBe(200);
    expect((await call('GET', '/records/g1?asOf=0001-01-01T00:00:00Z')).status).toBe(404);
    expect(await counts()).toEqual(before);
  });

  it('an NDJSON batch keeps its good rows and rejects, by line and field, the rows PostgreSQL cannot hold or that nest too deep', async () => {
    const lines = [
      JSON.stringify({ sourceId: 'n1', attributes: good }),
      `{"sourceId":"n2","attributes":{"cin":"BK22222","lastNameLatin":"Ben\\u0000ani"}}`,
      `{"sourceId":"n3","attributes":{"cin":"BK33333","firstNameLatin":"\\ud800x"}}`,
      `{"sourceId":"n4","attributes":{"cin":"BK44444","notes":${deepArrays}}}`,
      `{"sourceId":"n\\u00005","attributes":{"cin":"BK55555"}}`,
    ];
    const sent = await call('POST', '/batches?batchId=hostile-1', `${lines.join('\n')}\n`, 'application/x-ndjson');
    expect(sent.status).toBe(202);
    expect(JSON.parse(Buffer.from(sent.body).toString('utf8'))).toMatchObject({ total: 5, status: 'queued' });
    await t.db.transaction((tx) => processBatch(tx, new ReferentialCatalog(referentialModules), { sourceSystem: client, batchId: 'hostile-1' }));
    const status = await batchStatus(t.db, client, 'hostile-1');
    expect(status).toMatchObject({ status: 'done', applied: 1, rejected: 4 });
    const byLine = new Map(status?.errors.map((e) => [e.line, e]));
    expect(byLine.get(2)).toMatchObject({ sourceId: 'n2', problems: [expect.objectContaining({ location: 'attributes.lastNameLatin' })] });
    expect(byLine.get(3)).toMatchObject({ sourceId: 'n3', problems: [expect.objectContaining({ location: 'attributes.firstNameLatin' })] });
    expect(byLine.get(4)?.problems[0]?.location).toMatch(/^attributes\.notes(\.0)+$/);
    // A sourceId that cannot be stored is not stored beside the rejection either.
    expect(byLine.get(5)).toMatchObject({ sourceId: null, problems: [expect.objectContaining({ location: 'sourceId' })] });
    expect((await t.db.query(`SELECT source_id FROM ref_source_records WHERE source_system = $1 ORDER BY source_id`, [client])).rows).toEqual([{ source_id: 'n1' }]);
  });

  it('a CSV batch rejects the rows whose cells PostgreSQL cannot hold and keeps the others', async () => {
    const csv = `sourceId,cin,firstNameLatin,lastNameLatin,birthDate,sex\nc1,BK12345,Amina,Alaoui,1980-02-03,F\nc2,BK22222,Omar,Ben\u0000ani,1981-03-04,M\n`;
    const sent = await call('POST', '/batches?batchId=hostile-csv', csv, 'text/csv');
    expect(sent.status).toBe(202);
    await t.db.transaction((tx) => processBatch(tx, new ReferentialCatalog(referentialModules), { sourceSystem: client, batchId: 'hostile-csv' }));
    const status = await batchStatus(t.db, client, 'hostile-csv');
    expect(status).toMatchObject({ status: 'done', applied: 1, rejected: 1 });
    expect(status?.errors).toEqual([{ line: 3, sourceId: 'c2', problems: [expect.objectContaining({ location: 'attributes.lastNameLatin' })] }]);
  });

  it('transparency refuses a cursor beyond bigint and dates beyond timestamptz, naming the parameter', async () => {
    const report = (query: string) =>
      transparency.handle(request('MA/GOV/HUB/transparency/accesses', 'GET', `/subjects/cin/BK12345/accesses?${query}`), new AbortController().signal);
    expectRefused(await report('cursor=9999999999999999999'), 400, 'request-invalid', 'query.cursor');
    expectRefused(await report('from=0000-01-01T00:00:00Z'), 400, 'request-invalid', 'query.from');
    expectRefused(await report('to=0000-01-01T00:00:00Z'), 400, 'request-invalid', 'query.to');
    // The largest cursor and the earliest period are served; a `to` early in the year 1 keeps its default `from` in range.
    expect((await report('cursor=9223372036854775807')).status).toBe(200);
    expect((await report('to=0001-02-01T00:00:00Z')).status).toBe(200);
  });
});

describe('the admin API', () => {
  let hub: Hub;
  let dataDir: string;
  let token = '';

  beforeAll(async () => {
    dataDir = freshDataDir();
    const { logger } = captureLogger('warn');
    hub = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir }), { logger, http: true, workers: false, referentials: referentialModules });
    token = (await addOperator(hub.db, { name: 'Amina (admin)', role: 'admin', actor: 'test' })).token;
  });
  afterAll(async () => {
    await hub.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends `body` as given (JSON text, so that escapes such as \ud800 reach the server as a hostile client writes them). */
  async function admin(method: string, path: string, body?: string): Promise<{ status: number; body: ProblemBody }> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const res = await fetch(`${hub.url}${path}`, { method, headers, body });
    return { status: res.status, body: (await res.json()) as ProblemBody };
  }
  const expectAdminRefused = (answer: { status: number; body: ProblemBody }, status: number, code: string, location: string) => {
    expect(answer.status).toBe(status);
    expect(answer.body.type).toBe(`urn:tabadol:problem:${code}`);
    expect(answer.body.errors?.map((e) => e.location)).toContain(location);
  };

  it('a member name or a reason with U+0000 or a lone surrogate is a 400 naming the field; nothing is registered', async () => {
    expectAdminRefused(await admin('POST', '/admin/v1/members', `{"id":"MA/GOV/TEST","name":"Min\\u0000istere"}`), 400, 'request-invalid', 'body.name');
    expectAdminRefused(await admin('POST', '/admin/v1/members', `{"id":"MA/GOV/TEST","name":"Minist\\ud800ere"}`), 400, 'request-invalid', 'body.name');
    const members = (await hub.db.query(`SELECT id FROM members WHERE id = 'MA/GOV/TEST'`)).rows;
    expect(members).toEqual([]);
    expect((await admin('POST', '/admin/v1/members', JSON.stringify({ id: 'MA/GOV/TEST', name: 'Ministère' }))).status).toBe(201);
    expectAdminRefused(await admin('POST', '/admin/v1/members/status', `{"id":"MA/GOV/TEST","status":"disabled","reason":"audit\\u0000"}`), 400, 'request-invalid', 'body.reason');
    expectAdminRefused(await admin('POST', '/admin/v1/members/status', `{"id":"MA/GOV/TEST","status":"disabled","reason":"\\udfff"}`), 400, 'request-invalid', 'body.reason');
    expect((await hub.db.query<{ status: string }>(`SELECT status FROM members WHERE id = 'MA/GOV/TEST'`)).rows).toEqual([{ status: 'active' }]);
    expectAdminRefused(await admin('POST', '/admin/v1/conventions/revoke', `{"id":"x","version":1,"reason":"gone\\u0000"}`), 400, 'request-invalid', 'body.reason');
    expectAdminRefused(await admin('POST', '/admin/v1/referentials/persons/merges', `{"survivorId":"a","mergedId":"b","reason":"same\\u0000"}`), 400, 'request-invalid', 'body.reason');
  });

  it('query parameters and dates beyond what PostgreSQL holds are a 400 naming the field', async () => {
    expectAdminRefused(await admin('GET', '/admin/v1/conventions?consumer=MA%00GOV'), 400, 'request-invalid', 'query.consumer');
    expectAdminRefused(await admin('GET', '/admin/v1/log/verify?from=9999999999999999999'), 400, 'request-invalid', 'query.from');
    expectAdminRefused(await admin('POST', '/admin/v1/log/purge', JSON.stringify({ before: '0000-01-01' })), 400, 'request-invalid', 'body.before');
  });

  it('a YAML alias bomb sent to verify is a 422 naming the YAML, answered at once', async () => {
    const levels = 'abcdefghi'.split('');
    const bomb = levels.map((name, i) => `${name}: &${name} [${Array.from({ length: 9 }, () => (i === 0 ? '"lol"' : `*${levels[i - 1] ?? ''}`)).join(',')}]`).join('\n');
    const started = performance.now();
    const answer = await admin('POST', '/admin/v1/conventions/verify', JSON.stringify({ yaml: bomb, openapi: 'openapi: 3.1.0\n', jws: '{}' }));
    expect(performance.now() - started).toBeLessThan(2000);
    expectAdminRefused(answer, 422, 'unprocessable', 'body.yaml');
    expect(answer.body.detail).toMatch(/alias/);
  });

  it('a convention whose YAML decodes to U+0000 is refused (422), not passed to SQL', async () => {
    const yaml = 'id: "x\\0y"\nversion: 1\nprovider: MA/GOV/A/b\nservice: s\nconsumer: MA/GOV/C/d\ntitle: t\n';
    expectAdminRefused(await admin('POST', '/admin/v1/conventions/verify', JSON.stringify({ yaml, openapi: 'openapi: 3.1.0\n', jws: '{}' })), 422, 'unprocessable', 'body.yaml');
  });
});
