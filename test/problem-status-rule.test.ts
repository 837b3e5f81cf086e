// The rule for 400 and 422 (docs/decisions.md §18): a field of the request at fault on its own is a 400
// request-invalid, whoever finds it (the schema or a service); a well-formed request that a domain rule refuses is a
// 422 unprocessable. Checked on representative endpoints of a started hub, and on the one mapping (error-mapping.ts).
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referentialModules } from '../referentials/index.ts';
import { AdminInputError } from '../src/admin/errors.ts';
import { generateMemberKeyPair } from '../src/admin/keys.ts';
import { loadConfig } from '../src/config.ts';
import { ConventionRefusedError } from '../src/conventions/store.ts';
import { toProblem } from '../src/http/error-mapping.ts';
import type { ProblemBody } from '../src/http/problem.ts';
import { MemberError } from '../src/identity/members.ts';
import { addOperator } from '../src/identity/operators.ts';
import { StewardshipError } from '../src/golden/engine-types.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { freshDataDir } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';

let hub: Hub;
let token = '';
let dataDir = '';

beforeAll(async () => {
  dataDir = freshDataDir();
  hub = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir }), { logger: captureLogger().logger, http: true, workers: false, referentials: referentialModules });
  token = (await addOperator(hub.db, { name: 'Amina (admin)', role: 'admin', actor: 'test' })).token;
});

afterAll(async () => {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; problem: ProblemBody }> {
  const res = await fetch(`${hub.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, problem: (await res.json()) as ProblemBody };
}

function expectProblem(answer: { status: number; problem: ProblemBody }, status: 400 | 422): void {
  const code = status === 400 ? 'request-invalid' : 'unprocessable';
  expect({ status: answer.status, type: answer.problem.type, problemStatus: answer.problem.status }).toEqual({ status, type: `urn:tabadol:problem:${code}`, problemStatus: status });
}

describe('400: a field of the request at fault on its own', () => {
  it('found by the schema: a member without its name', async () => {
    expectProblem(await post('/admin/v1/members', { id: 'MA/GOV/TEST' }), 400);
  });

  it('found by the service: a member key that holds private key material', async () => {
    const pair = await generateMemberKeyPair('ES256', 'rule-1');
    expectProblem(await post('/admin/v1/members', { id: 'MA/GOV/TEST/rule', name: 'Rule', jwks: { keys: [pair.privateJwk] } }), 400);
  });
});

describe('422: a well-formed request refused by a domain rule', () => {
  it("a convention document the hub refuses to read (a field holding U+0000)", async () => {
    const yaml = 'id: "x\\0y"\nversion: 1\nprovider: MA/GOV/A/b\nservice: s\nconsumer: MA/GOV/C/d\ntitle: t\n';
    expectProblem(await post('/admin/v1/conventions/verify', { yaml, openapi: 'openapi: 3.1.0\n', jws: '{}' }), 422);
  });

  it('a stewardship decision the records cannot take: a merge of a record with itself', async () => {
    const id = randomUUID();
    expectProblem(await post('/admin/v1/referentials/persons/merges', { survivorId: id, mergedId: id, reason: 'same' }), 422);
  });

  it('the documented exception: a revocation without a reason (every convention refusal shares one reason)', async () => {
    expectProblem(await post('/admin/v1/conventions/revoke', { id: 'MA.GOV.A.b.s--MA.GOV.C.d', reason: ' ' }), 422);
  });
});

describe('the one mapping follows the rule', () => {
  it.each([
    [new MemberError('invalid', 'must not be empty', 'name'), 400],
    [new AdminInputError('baseUrl', 'must be https'), 400],
    [new ConventionRefusedError('invalid', ['signature 1 does not verify']), 422],
    [new StewardshipError('invalid', 'a golden record cannot be merged with itself'), 422],
    [new MemberError('not-found', 'no such member', 'id'), 404],
    [new ConventionRefusedError('conflict', ['version 2 is already active']), 409],
  ] as const)('%s → %i', (err, status) => {
    expect(toProblem(err).status).toBe(status);
  });
});
