// Signed conventions: JCS, signing and verification with precise refusals, activation with the hub's countersignature, the registry.
import { createHash, createPublicKey, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, GeneralSign, generateKeyPair, importJWK, type CryptoKey, type GeneralJWS, type JWK } from 'jose';
import { parse as parseYaml } from 'yaml';
import { canonicalize, CanonicalJsonError } from '../src/conventions/canonical-json.ts';
import { openapiDigest, parseConventionYaml } from '../src/conventions/document.ts';
import { ConventionRegistry } from '../src/conventions/registry.ts';
import { addSignature, signConvention, verifyConvention, writeJws, type KeyResolver, type ResolvedKey } from '../src/conventions/signing.ts';
import { activateConvention, ConventionRefusedError, listConventions, loadActiveConventions, revokeConvention } from '../src/conventions/store.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import { registerMember, revokeMemberKey } from '../src/identity/members.ts';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { openDatabase } from '../src/storage/index.ts';
import type { Db } from '../src/storage/db.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';
import { testDatabaseUrl } from './helpers/env.ts';

const PROVIDER = 'MA/GOV/METLE/qualification-btp';
const CONSUMER = 'MA/GOV/MEF/marches-publics';
const OUTSIDER = 'MA/GOV/DGI/impots';
const HUB = 'MA/GOV/HUB/core';

describe('RFC 8785 canonical JSON', () => {
  const fromHex = (hex: string): number => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(`0x${hex}`));
    return view.getFloat64(0);
  };

  // RFC 8785 Appendix B: IEEE 754 doubles and their canonical serialisation.
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('number %s → %s', (hex, expected) => {
    expect(canonicalize(fromHex(hex))).toBe(expected);
  });

  it('refuses NaN and Infinity (RFC 8785 Appendix B)', () => {
    expect(() => canonicalize(fromHex('7fffffffffffffff'))).toThrow(CanonicalJsonError);
    expect(() => canonicalize(fromHex('7ff0000000000000'))).toThrow(/Infinity is not a JSON number/);
    expect(() => canonicalize({ a: [1, -Infinity] })).toThrow(/\$\.a\.1: -Infinity/);
  });

  it('serialises the §3.2.2 example exactly, down to its UTF-8 bytes', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`) as unknown;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalize(input)).toBe(expected);
    // The RFC's hex dump of the same output.
    const hex =
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac245c7530303066' +
      '5c6e4127425c225c5c5c5c5c222f227d';
    expect(Buffer.from(canonicalize(input), 'utf8').toString('hex')).toBe(hex);
  });

  it('sorts keys by UTF-16 code units (§3.2.3 example)', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`) as Record<string, string>;
    // Compared as text: JSON.parse would put the integer-like key "1" first again (JS object order).
    const expected =
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
      '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    expect(canonicalize(input)).toBe(expected);
  });

  it('refuses values that are not JSON', () => {
    expect(() => canonicalize({ a: undefined })).toThrow(/\$\.a: undefined/);
    expect(() => canonicalize({ d: new Date(0) })).toThrow(/Date object/);
    expect(() => canonicalize(10n)).toThrow(/bigint/);
    expect(() => canonicalize('\ud800')).toThrow(/lone surrogate/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalize(loop)).toThrow(/circular/);
    expect(canonicalize({ b: [], a: {}, c: '😀' })).toBe('{"a":{},"b":[],"c":"😀"}');
  });
});

const openapiText = `openapi: 3.1.0
info:
  title: Classification des entreprises BTP
  version: 1.0.0
paths:
  /entreprises/{ice}/classification:
    get:
      operationId: getClassification
      parameters:
        - { name: ice, in: path, required: true, schema: { type: string, pattern: '^[0-9]{15}$' } }
      responses:
        '200':
          description: La classification
          content:
            application/json:
              schema: { type: object, properties: { ice: { type: string }, classes: { type: array, items: { type: string } } } }
`;

interface Party {
  id: string;
  jwk: JWK;
  publicKey: CryptoKey;
}

async function party(id: string, alg: 'ES256' | 'EdDSA', kid: string): Promise<Party> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { id, jwk: { ...(await exportJWK(privateKey)), kid }, publicKey };
}

function conventionYaml(o: { id: string; service: string; version?: number; quota?: number; extra?: string; provider?: string; consumer?: string }): string {
  return `# Convention d'échange ${o.id}
id: ${o.id}
version: ${o.version ?? 1}
provider: ${o.provider ?? PROVIDER}
service: ${o.service}
consumer: ${o.consumer ?? CONSUMER}
title: Qualification BTP des soumissionnaires
purposes:
  - code: public-procurement-eligibility
    description: Vérifier la qualification d'un soumissionnaire
    legalBasis: "Décret n° 2-22-431 relatif aux marchés publics, art. 25"
operations:
  - operationId: getClassification
    fields: [ice, classes]
    subjects:
      - { type: ice, in: path, name: ice }
quota: { count: ${o.quota ?? 1000}, windowSeconds: 86400 }
validFrom: "2025-01-01"
validUntil: "2027-12-31"
${o.extra ?? ''}`;
}

describe.each(drivers())('conventions on %s', (driver) => {
  let t: TestDb;
  let root: string;
  let provider: Party;
  let consumer: Party;
  let outsider: Party;
  let keyring: HubKeyring;
  const keys = new Map<string, ResolvedKey>();
  const resolveKey: KeyResolver = async (signer, kid) => keys.get(`${signer} ${kid}`);
  let n = 0;

  beforeAll(async () => {
    t = await openTestDb(driver);
    root = mkdtempSync(join(tmpdir(), 'tabadol-conventions-'));
    provider = await party(PROVIDER, 'ES256', 'metle-2025');
    consumer = await party(CONSUMER, 'EdDSA', 'mef-2025');
    outsider = await party(OUTSIDER, 'ES256', 'dgi-2025');
    for (const p of [provider, consumer, outsider]) keys.set(`${p.id} ${p.jwk.kid}`, p.publicKey);
    keyring = new HubKeyring(HUB, await loadOrCreateHubKeys({ dataDir: join(root, 'hub') }));
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  /** A fresh service folder with its OpenAPI and one convention YAML; returns the YAML path. */
  function contract(o: { version?: number; quota?: number; extra?: string } = {}): { yamlPath: string; id: string; service: string; dir: string } {
    n += 1;
    const service = `classification-${n}`;
    const id = `metle-mef-${n}`;
    const dir = join(root, 'contracts', 'MA.GOV.METLE.qualification-btp', service);
    mkdirSync(join(dir, 'conventions'), { recursive: true });
    writeFileSync(join(dir, 'openapi.yaml'), openapiText);
    const yamlPath = join(dir, 'conventions', 'MA.GOV.MEF.marches-publics.yaml');
    writeFileSync(yamlPath, conventionYaml({ id, service, ...o }));
    return { yamlPath, id, service, dir };
  }

  async function signedByBoth(o: { version?: number; quota?: number } = {}): Promise<{ yamlPath: string; id: string; service: string; dir: string }> {
    const c = contract(o);
    await signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk });
    await signConvention(c.yamlPath, { signer: CONSUMER, privateJwk: consumer.jwk });
    return c;
  }

  const readJws = (yamlPath: string): GeneralJWS => JSON.parse(readFileSync(yamlPath.replace(/\.yaml$/, '.jws'), 'utf8')) as GeneralJWS;
  const headerOf = (s: GeneralJWS['signatures'][number]): Record<string, unknown> => JSON.parse(Buffer.from(s.protected ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

  it('signs as provider (ES256) and consumer (EdDSA) and verifies', async () => {
    const c = await signedByBoth();
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.signatures).toEqual([
      { signer: PROVIDER, role: 'provider', kid: 'metle-2025', alg: 'ES256', ok: true },
      { signer: CONSUMER, role: 'consumer', kid: 'mef-2025', alg: 'EdDSA', ok: true },
    ]);
    expect(result.convention?.logBodies).toBe(false);
    expect(result.openapiDigest).toBe(createHash('sha256').update(openapiText).digest('base64url'));

    const jws = readJws(c.yamlPath);
    expect(headerOf(jws.signatures[0] as GeneralJWS['signatures'][number])).toEqual({ alg: 'ES256', kid: 'metle-2025', 'tabadol.signer': PROVIDER, 'tabadol.role': 'provider' });
    // The payload is the YAML's data model WITHOUT defaults (no logBodies) plus openapiDigest, in JCS form.
    const payload = Buffer.from(jws.payload, 'base64url').toString('utf8');
    const expected = { ...(parseYaml(readFileSync(c.yamlPath, 'utf8'), { schema: 'core' }) as object), openapiDigest: openapiDigest(Buffer.from(openapiText)) };
    expect(payload).toBe(canonicalize(expected));
    expect(payload).not.toContain('logBodies');
  });

  it('produces signatures that plain node:crypto verifies (no jose involved)', async () => {
    const c = await signedByBoth();
    const jws = readJws(c.yamlPath);
    const pubs: Record<string, KeyObject> = {
      [PROVIDER]: createPublicKey({ key: { ...provider.jwk, d: undefined } as JsonWebKey, format: 'jwk' }),
      [CONSUMER]: createPublicKey({ key: { ...consumer.jwk, d: undefined } as JsonWebKey, format: 'jwk' }),
    };
    for (const s of jws.signatures) {
      const h = headerOf(s);
      const input = Buffer.from(`${s.protected}.${jws.payload}`);
      const sig = Buffer.from(s.signature, 'base64url');
      const key = pubs[h['tabadol.signer'] as string] as KeyObject;
      const ok = h.alg === 'ES256' ? cryptoVerify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig) : cryptoVerify(null, input, key, sig);
      expect(ok).toBe(true);
    }
  });

  it('re-signing by the same party replaces its signature, keeping provider, consumer order', async () => {
    const c = contract();
    await signConvention(c.yamlPath, { signer: CONSUMER, privateJwk: consumer.jwk });
    await signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk });
    const again = await signConvention(c.yamlPath, { signer: CONSUMER, privateJwk: consumer.jwk });
    expect(again.signers.map((s) => s.role)).toEqual(['provider', 'consumer']);
    expect((await verifyConvention(c.yamlPath, resolveKey)).ok).toBe(true);
  });

  it('refuses a YAML changed after signing, naming the field, and refuses to add a signature unless restarted', async () => {
    const c = await signedByBoth();
    writeFileSync(c.yamlPath, readFileSync(c.yamlPath, 'utf8').replace('count: 1000', 'count: 100000'));
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(['the YAML differs from what was signed: changed field(s) quota']);
    await expect(signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk })).rejects.toThrow(
      /holds signatures by MA\/GOV\/METLE\/qualification-btp \(provider\), MA\/GOV\/MEF\/marches-publics \(consumer\) over other content: the YAML differs from what was signed: changed field\(s\) quota/,
    );
    const restarted = await signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk, restart: true });
    expect(restarted.restarted).toBe(true);
    expect(restarted.signers.map((s) => s.role)).toEqual(['provider']);
    expect((await verifyConvention(c.yamlPath, resolveKey)).problems).toEqual([`missing the consumer's signature (${CONSUMER})`]);
  });

  it('refuses when the OpenAPI bytes changed since signing, with both digests', async () => {
    const c = await signedByBoth();
    const before = openapiDigest(readFileSync(join(c.dir, 'openapi.yaml')));
    writeFileSync(join(c.dir, 'openapi.yaml'), `${openapiText}\n`); // one byte more: a different document for the signers
    const result = await verifyConvention(c.yamlPath, resolveKey);
    const after = openapiDigest(readFileSync(join(c.dir, 'openapi.yaml')));
    expect(result.problems).toEqual([`the OpenAPI document changed since it was signed: the signatures cover openapiDigest "${before}", its bytes now digest to ${after}`]);
  });

  it('refuses a signature that does not verify', async () => {
    const c = await signedByBoth();
    const jws = readJws(c.yamlPath);
    const sig = jws.signatures[1] as GeneralJWS['signatures'][number];
    const bytes = Buffer.from(sig.signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    sig.signature = bytes.toString('base64url');
    writeJws(c.yamlPath.replace(/\.yaml$/, '.jws'), jws);
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.ok).toBe(false);
    expect(result.signatures[1]).toMatchObject({ signer: CONSUMER, ok: false, reason: `the signature does not verify with key mef-2025 of ${CONSUMER}` });
    expect(result.problems).toEqual([`signature 1 (${CONSUMER} as consumer, kid mef-2025): the signature does not verify with key mef-2025 of ${CONSUMER}`]);
  });

  it('refuses a missing consumer signature', async () => {
    const c = contract();
    await signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk });
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.problems).toEqual([`missing the consumer's signature (${CONSUMER})`]);
    await expect(activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' })).rejects.toThrow(`missing the consumer's signature (${CONSUMER})`);
  });

  it('refuses a signer that is not a party, whether signing or verifying', async () => {
    const c = await signedByBoth();
    await expect(signConvention(c.yamlPath, { signer: OUTSIDER, privateJwk: outsider.jwk })).rejects.toThrow(
      `${OUTSIDER} is neither the provider (${PROVIDER}) nor the consumer (${CONSUMER}) of convention ${c.id}`,
    );
    await expect(signConvention(c.yamlPath, { signer: OUTSIDER, privateJwk: outsider.jwk, role: 'consumer' })).rejects.toThrow(`the consumer of convention ${c.id} is ${CONSUMER}`);
    // Forged by hand: an outsider's signature claiming the consumer role.
    const jws = readJws(c.yamlPath);
    const key = (await importJWK(outsider.jwk, 'ES256')) as CryptoKey;
    const forged = await addSignature(jws, Buffer.from(jws.payload, 'base64url'), { signer: OUTSIDER, role: 'provider', kid: 'dgi-2025', alg: 'ES256', key });
    writeJws(c.yamlPath.replace(/\.yaml$/, '.jws'), forged);
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.problems).toEqual([`signature 1 (${OUTSIDER} as provider, kid dgi-2025): ${OUTSIDER} is not a party to this convention (provider ${PROVIDER}, consumer ${CONSUMER}, hub ${HUB})`]);
  });

  it('refuses unknown and revoked keys, and algorithms other than ES256 and EdDSA', async () => {
    const c = await signedByBoth();
    const revoking: KeyResolver = async (signer, kid) => (signer === CONSUMER ? { revoked: true, reason: 'compromised' } : resolveKey(signer, kid));
    expect((await verifyConvention(c.yamlPath, revoking)).problems).toEqual([`signature 1 (${CONSUMER} as consumer, kid mef-2025): key mef-2025 of ${CONSUMER} is revoked (compromised)`]);
    const forgetting: KeyResolver = async (signer, kid) => (signer === PROVIDER ? undefined : resolveKey(signer, kid));
    expect((await verifyConvention(c.yamlPath, forgetting)).problems).toEqual([`signature 0 (${PROVIDER} as provider, kid metle-2025): key metle-2025 of ${PROVIDER} is unknown`]);

    const jws = readJws(c.yamlPath);
    const hmac = await new GeneralSign(Buffer.from(jws.payload, 'base64url'))
      .addSignature(new Uint8Array(32).fill(7))
      .setProtectedHeader({ alg: 'HS256', kid: 'metle-2025', 'tabadol.signer': PROVIDER, 'tabadol.role': 'provider' })
      .sign();
    writeJws(c.yamlPath.replace(/\.yaml$/, '.jws'), { payload: jws.payload, signatures: [hmac.signatures[0] as GeneralJWS['signatures'][number], jws.signatures[1] as GeneralJWS['signatures'][number]] });
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.problems).toEqual([`signature 0 (${PROVIDER} as provider, kid metle-2025): alg "HS256" is refused: only ES256 and EdDSA`]);
  });

  it('refuses an invalid YAML, naming the field', async () => {
    const c = contract();
    writeFileSync(c.yamlPath, readFileSync(c.yamlPath, 'utf8').replace('  - operationId: getClassification\n', '  - feilds: [ice]\n'));
    const result = await verifyConvention(c.yamlPath, resolveKey);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(['operations.0.operationId: Required', 'operations.0.feilds: Unrecognized field']);
    await expect(signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk })).rejects.toThrow(/operations\.0\.operationId: Required/);
  });

  it('refuses unquoted dates (a YAML 1.1 parser would read timestamps) though core schema keeps them strings', async () => {
    const yaml = conventionYaml({ id: 'x', service: 's' }).replace('validFrom: "2025-01-01"', 'validFrom: 2025-01-01');
    expect(parseYaml(yaml, { schema: 'core' })).toMatchObject({ validFrom: '2025-01-01' });
    expect(() => parseConventionYaml(yaml)).toThrow('validFrom: must be quoted ("2025-01-01")');
    expect(() => parseConventionYaml('id: a\nid: b\n')).toThrow(/YAML: Map keys must be unique/);
  });

  it('refuses a file in the wrong folder, saying where it belongs', async () => {
    const c = contract();
    const wrong = join(c.dir, 'conventions', 'MA.GOV.MEF.autre.yaml');
    renameSync(c.yamlPath, wrong);
    const result = await verifyConvention(wrong, resolveKey);
    expect(result.problems).toEqual([
      `file location: the file is named "MA.GOV.MEF.autre.yaml", but consumer ${CONSUMER} is written "MA.GOV.MEF.marches-publics.yaml" (it declares provider ${PROVIDER}, service ${c.service}, consumer ${CONSUMER}, so it belongs at <contracts>/MA.GOV.METLE.qualification-btp/${c.service}/conventions/MA.GOV.MEF.marches-publics.yaml)`,
    ]);
    const otherService = join(root, 'contracts', 'MA.GOV.METLE.qualification-btp', 'other', 'conventions');
    mkdirSync(otherService, { recursive: true });
    writeFileSync(join(otherService, '..', 'openapi.yaml'), openapiText);
    writeFileSync(join(otherService, 'MA.GOV.MEF.marches-publics.yaml'), readFileSync(wrong));
    expect((await verifyConvention(join(otherService, 'MA.GOV.MEF.marches-publics.yaml'), resolveKey)).problems[0]).toMatch(
      new RegExp(`^file location: the service folder is "other", but service is "${c.service}"`),
    );
  });

  it('activates: the hub countersigns on disk and in the store, bumps registry_version, audits', async () => {
    const c = await signedByBoth();
    const before = (await t.db.query<{ version: string }>('SELECT version FROM registry_version WHERE id = 1')).rows[0]?.version;
    const result = await activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'ops:amina' });
    expect(result).toMatchObject({ id: c.id, version: 1, superseded: null });

    const jws = readJws(c.yamlPath);
    expect(jws.signatures.map(headerOf)).toEqual([
      expect.objectContaining({ 'tabadol.role': 'provider' }),
      expect.objectContaining({ 'tabadol.role': 'consumer' }),
      { alg: 'ES256', kid: keyring.current.kid, 'tabadol.signer': HUB, 'tabadol.role': 'hub' },
    ]);
    const withHub: KeyResolver = async (signer, kid) => (signer === HUB ? keyring.verifyKey(kid) : resolveKey(signer, kid));
    expect((await verifyConvention(c.yamlPath, withHub, { hubId: HUB, requireHub: true })).ok).toBe(true);

    const { rows } = await t.db.query<{ status: string; openapi: string; openapi_digest: string; jws: string; document: Record<string, unknown> }>(
      'SELECT status, openapi, openapi_digest, jws, document FROM conventions WHERE id = $1',
      [c.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'active', openapi: openapiText, openapi_digest: openapiDigest(Buffer.from(openapiText)) });
    expect(JSON.parse(rows[0]?.jws ?? '')).toEqual(jws);
    expect(rows[0]?.document).not.toHaveProperty('logBodies');
    const after = (await t.db.query<{ version: string }>('SELECT version FROM registry_version WHERE id = 1')).rows[0]?.version;
    expect(BigInt(after ?? 0)).toBe(BigInt(before ?? 0) + 1n);
    const auditRows = await t.db.query<{ actor: string; action: string; detail: { superseded: number | null } }>('SELECT actor, action, detail FROM admin_audit WHERE target = $1', [`${c.id}@1`]);
    expect(auditRows.rows).toEqual([{ actor: 'ops:amina', action: 'convention.activate', detail: expect.objectContaining({ superseded: null, service: c.service }) }]);

    const loaded = await loadActiveConventions(t.db, { resolveKey, keyring });
    expect(loaded.enforceable.find((e) => e.id === c.id)).toMatchObject({ version: 1, openapi: openapiText, convention: { logBodies: false, quota: { count: 1000 } } });
  });

  it('supersedes with a higher version and refuses an equal or lower one', async () => {
    const c = await signedByBoth();
    await activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' });
    await expect(activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' })).rejects.toThrow(
      `version 1 of convention ${c.id} is not above the active version 1: raise version to supersede it`,
    );

    writeFileSync(c.yamlPath, conventionYaml({ id: c.id, service: c.service, version: 2, quota: 5000 }));
    await signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk, restart: true });
    await signConvention(c.yamlPath, { signer: CONSUMER, privateJwk: consumer.jwk });
    const v2 = await activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' });
    expect(v2.superseded).toBe(1);
    expect((await listConventions(t.db, { id: c.id })).map((r) => [r.version, r.status])).toEqual([
      [1, 'superseded'],
      [2, 'active'],
    ]);

    writeFileSync(c.yamlPath, conventionYaml({ id: c.id, service: c.service, version: 1, quota: 9 }));
    await signConvention(c.yamlPath, { signer: PROVIDER, privateJwk: provider.jwk, restart: true });
    await signConvention(c.yamlPath, { signer: CONSUMER, privateJwk: consumer.jwk });
    const refusal = await activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ConventionRefusedError);
    expect((refusal as ConventionRefusedError).reason).toBe('conflict');
    expect((refusal as ConventionRefusedError).problems).toEqual([`version 1 of convention ${c.id} is not above the active version 2: raise version to supersede it`]);
    // The refused activation did not countersign the file.
    expect(readJws(c.yamlPath).signatures.map((s) => headerOf(s)['tabadol.role'])).toEqual(['provider', 'consumer']);
  });

  it('revokes, and never reuses a revoked version', async () => {
    const c = await signedByBoth();
    await activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' });
    await expect(revokeConvention(t.db, { id: c.id, reason: ' ', actor: 'ops' })).rejects.toThrow('reason: a revocation needs a reason');
    const revoked = await revokeConvention(t.db, { id: c.id, reason: 'the consumer no longer needs it', actor: 'ops:amina' });
    expect(revoked).toMatchObject({ id: c.id, version: 1, status: 'revoked', revokedBy: 'ops:amina', revokedReason: 'the consumer no longer needs it' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    await expect(revokeConvention(t.db, { id: c.id, reason: 'again', actor: 'ops' })).rejects.toThrow(`convention ${c.id} has no active version`);
    await expect(activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' })).rejects.toThrow(
      `version 1 of convention ${c.id} is not above version 1 (revoked): versions are never reused, raise version`,
    );
    const loaded = await loadActiveConventions(t.db, { resolveKey, keyring });
    expect(loaded.enforceable.find((e) => e.id === c.id)).toBeUndefined();
  });

  it('re-verifies what is stored: changed OpenAPI bytes or a revoked key make a convention unenforceable, with reasons', async () => {
    const a = await signedByBoth();
    await activateConvention(t.db, a.yamlPath, { keyring, resolveKey, actor: 'test' });
    await t.db.query(`UPDATE conventions SET openapi = openapi || ' ', openapi_digest = $2 WHERE id = $1`, [a.id, openapiDigest(Buffer.from(`${openapiText} `))]);
    const b = await signedByBoth();
    await activateConvention(t.db, b.yamlPath, { keyring, resolveKey, actor: 'test' });
    const revokedConsumer: KeyResolver = async (signer, kid) => (signer === CONSUMER && kid === 'mef-2025' ? { revoked: true } : resolveKey(signer, kid));

    const loaded = await loadActiveConventions(t.db, { resolveKey: revokedConsumer, keyring });
    const refusedA = loaded.refused.find((r) => r.id === a.id);
    expect(refusedA?.problems[0]).toMatch(/^the OpenAPI document changed since it was signed: the signatures cover openapiDigest/);
    expect(loaded.refused.find((r) => r.id === b.id)?.problems).toEqual([`signature 1 (${CONSUMER} as consumer, kid mef-2025): key mef-2025 of ${CONSUMER} is revoked`]);
    expect(loaded.enforceable.find((e) => e.id === a.id || e.id === b.id)).toBeUndefined();
    await revokeConvention(t.db, { id: a.id, reason: 'tampered in test', actor: 'test' });
    await revokeConvention(t.db, { id: b.id, reason: 'done', actor: 'test' });
  });

  it('verifies with the keys registered in member_keys, a revoked one named as such', async () => {
    const publicJwk = (p: Party): JWK => {
      const { d: _d, ...pub } = p.jwk;
      return pub;
    };
    await registerMember(t.db, { id: PROVIDER, name: 'METLE qualification', jwks: { keys: [publicJwk(provider)] }, actor: 'test' });
    await registerMember(t.db, { id: CONSUMER, name: 'MEF marchés', jwks: { keys: [publicJwk(consumer)] }, actor: 'test' });
    const c = await signedByBoth();
    const fromDb = memberKeyResolver(t.db);
    expect((await verifyConvention(c.yamlPath, fromDb)).ok).toBe(true);
    await revokeMemberKey(t.db, { id: CONSUMER, kid: 'mef-2025', actor: 'test' });
    expect((await verifyConvention(c.yamlPath, fromDb)).problems[0]).toMatch(/^signature 1 \(MA\/GOV\/MEF\/marches-publics as consumer, kid mef-2025\): key mef-2025 of MA\/GOV\/MEF\/marches-publics is revoked \(since /);
    expect((await verifyConvention(c.yamlPath, async () => undefined)).problems).toHaveLength(2);
  });

  it('the registry of another process picks up activations and revocations by polling', async () => {
    // Another handle on the same database, as another hub process would have. PGlite is single-process (one handle).
    const other: Db = driver === 'pg' ? await openDatabase({ databaseUrl: testDatabaseUrl, dataDir: '', schema: t.where }) : t.db;
    const registry = new ConventionRegistry(other, { resolveKey, keyring });
    try {
      await registry.start(50);
      const c = await signedByBoth();
      expect(registry.find(CONSUMER, PROVIDER, c.service)).toBeUndefined();
      await activateConvention(t.db, c.yamlPath, { keyring, resolveKey, actor: 'test' });
      await expect.poll(() => registry.find(CONSUMER, PROVIDER, c.service)?.version, { timeout: 2000, interval: 20 }).toBe(1);
      const found = registry.find(CONSUMER, PROVIDER, c.service);
      expect(found).toMatchObject({ id: c.id, openapi: openapiText, openapiDigest: openapiDigest(Buffer.from(openapiText)) });
      expect(registry.find(PROVIDER, CONSUMER, c.service)).toBeUndefined();

      await revokeConvention(t.db, { id: c.id, reason: 'test', actor: 'test' });
      await expect.poll(() => registry.find(CONSUMER, PROVIDER, c.service), { timeout: 2000, interval: 20 }).toBeUndefined();
      expect(await registry.poll()).toBe(false);
    } finally {
      await registry.stop();
      if (other !== t.db) await other.close();
    }
  });
});
