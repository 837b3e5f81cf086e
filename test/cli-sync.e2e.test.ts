// The sync commands as an operator runs them (`node bin/tabadol.js ...`) beside a running embedded hub, through its local
// channel: subscription create|list|show|pause|resume|rewind --follow|end, sync status, dlq list|show|replay --follow;
// and the refusals, each naming the option. The subscriber is a real HTTP server this test controls.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companiesModule } from '../referentials/companies/module.ts';
import { makeIce } from '../referentials/identifiers/index.ts';
import { generateMemberKeyPair } from '../src/admin/keys.ts';
import { loadConfig } from '../src/config.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { activateConvention } from '../src/conventions/store.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { memberKeyResolver } from '../src/identity/key-resolvers.ts';
import { registerMember } from '../src/identity/members.ts';
import type { Db } from '../src/storage/db.ts';
import { connectLocalDb } from '../src/storage/local-db.ts';
import { listDeadLetters } from '../src/sync/dead-letters.ts';
import type { PushBody } from '../src/sync/push.ts';
import { subscriptionStatuses, type SubscriptionStatus } from '../src/sync/status.ts';
import type { Subscription } from '../src/sync/subscriptions.ts';
import { freshDataDir } from './helpers/db.ts';
import { runToExit, startServe, type RunningHub } from './helpers/process.ts';

const companies = companiesModule as unknown as ReferentialModule;
const SUBSCRIBER = 'MA/GOV/DGI/registre-fiscal';
const PURPOSE = 'fiscal-registry-sync';
const companiesOpenapi = fileURLToPath(new URL('../contracts/MA.GOV.HUB.referentials/companies/openapi.yaml', import.meta.url));

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** A subscriber that accepts every push (204) unless told to refuse the pushes holding a company of a given name (422). */
async function startReceiver(): Promise<{ url: string; changes: Array<{ id: string; goldenId: string }>; refuse: Set<string>; server: Server }> {
  // `refuse` holds company names: set before the company is written, so that its first push is already refused.
  const receiver = { url: '', changes: [] as Array<{ id: string; goldenId: string }>, refuse: new Set<string>(), server: undefined as unknown as Server };
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PushBody;
      if (body.deliveries.some((d) => receiver.refuse.has(String(d.record?.attributes?.nameFr)))) return void res.writeHead(422).end();
      receiver.changes.push(...body.deliveries.map((d) => ({ id: d.id, goldenId: d.goldenId })));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/changes`;
  return receiver;
}

// Each command is a fresh process reaching the hub through its channel: seconds each, more under a parallel suite.
describe('tabadol subscription, sync and dlq beside a running hub', { timeout: 600_000 }, () => {
  let dataDir: string;
  let hub: RunningHub;
  let db: Db;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let subscriptionId = '';
  let n = 0;
  const settings = () => ({ DATA_DIR: dataDir, SYNC_TICK_MS: '100', SYNC_BACKOFF_BASE_SECONDS: '0.05', SYNC_BACKOFF_MAX_SECONDS: '0.4' });
  const tabadol = (...args: string[]) => runToExit(args, settings(), 120_000);
  const give = async (name: string) => {
    const i = n++;
    const attributes = { ice: makeIce(String(500_000_000 + i)), nameFr: name, legalForm: 'sarl', status: 'active', commune: '01.051.11.01', if: String(50_000_000 + i) };
    return (await contribute(db, companies, { sourceSystem: 'ompic', sourceId: `cli-${i}`, attributes })).goldenId;
  };

  beforeAll(async () => {
    dataDir = freshDataDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    hub = await startServe(settings());
    cleanup.push(() => hub.stop());
    const channel = await connectLocalDb(dataDir);
    if (!channel) throw new Error('the hub does not answer on its local channel');
    db = channel;
    cleanup.push(() => db.close());
    receiver = await startReceiver();
    cleanup.push(() => new Promise((resolve) => receiver.server.close(resolve)));

    // The subscriber, and its convention with the referentials (signed by the hub's key as their provider, and by the
    // subscriber), activated through the hub's own database: the running hub picks it up at its next registry poll.
    const keys = await generateMemberKeyPair('ES256', 'dgi-2025');
    await registerMember(db, { id: SUBSCRIBER, name: 'Registre fiscal', jwks: keys.publicJwks, actor: 'test' });
    const config = loadConfig({ DATA_DIR: dataDir });
    const keyring = new HubKeyring(config.HUB_ID, await loadOrCreateHubKeys({ dataDir, hubKeyFile: config.HUB_KEY_FILE }));
    const provider = hubSubsystems(config.HUB_ID).referentials;
    const contracts = mkdtempSync(join(tmpdir(), 'tabadol-cli-sync-'));
    cleanup.push(() => rmSync(contracts, { recursive: true, force: true }));
    const serviceDir = join(contracts, provider.replaceAll('/', '.'), 'companies');
    mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
    cpSync(companiesOpenapi, join(serviceDir, 'openapi.yaml'));
    const yamlPath = join(serviceDir, 'conventions', 'MA.GOV.DGI.registre-fiscal.yaml');
    const convention = {
      id: `${provider.replaceAll('/', '.')}.companies--${SUBSCRIBER.replaceAll('/', '.')}`,
      version: 1,
      title: 'the fiscal registry keeps its copy of companies current',
      provider,
      service: 'companies',
      consumer: SUBSCRIBER,
      purposes: [{ code: PURPOSE, description: 'keeps its copy current', legalBasis: 'test' }],
      operations: [{ operationId: 'listChanges' }],
      quota: { count: 1000, windowSeconds: 60 },
      validFrom: '2026-01-01',
      validUntil: '2099-12-31',
      logBodies: false,
    };
    writeFileSync(yamlPath, stringify(convention, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }));
    const hubKey: JWK = { ...(keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: keyring.current.kid, alg: 'ES256' };
    await signConvention(yamlPath, { signer: provider, privateJwk: hubKey, role: 'provider', hubId: config.HUB_ID, restart: true });
    await signConvention(yamlPath, { signer: SUBSCRIBER, privateJwk: keys.privateJwk, role: 'consumer', hubId: config.HUB_ID, restart: true });
    await activateConvention(db, yamlPath, { keyring, resolveKey: memberKeyResolver(db), actor: 'test' });
  }, 180_000);

  const status = async (): Promise<SubscriptionStatus | undefined> => {
    const run = await tabadol('sync', 'status', '--json');
    expect(run.code, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { subscriptions: SubscriptionStatus[] }).subscriptions.find((s) => s.id === subscriptionId);
  };

  it('creates a push subscription from the start of the feed, and refuses bad input naming the option', async () => {
    await give('Atlas');
    await give('Bahia');
    const created = await tabadol('subscription', 'create', '--subscriber', SUBSCRIBER, '--referential', 'companies', '--purpose', PURPOSE, '--mode', 'push', '--target', receiver.url, '--from', 'start', '--batch-size', '5', '--json');
    expect(created.code, created.stderr).toBe(0);
    const sub = JSON.parse(created.stdout) as Subscription;
    expect(sub).toMatchObject({ subscriber: SUBSCRIBER, referential: 'companies', mode: 'push', state: 'active', cursor: 0, batchSize: 5, createdBy: expect.stringMatching(/^cli:/) });
    subscriptionId = sub.id;

    const refusals: Array<[string[], RegExp]> = [
      [['--subscriber', 'MA/GOV'], /^tabadol: --subscriber: must be a subsystem id/],
      [['--batch-size', '0'], /^tabadol: --batch-size: must be an integer between 1 and 1000$/],
      [['--subscriber', 'MA/GOV/X/nobody'], /^tabadol: no active convention lets MA\/GOV\/X\/nobody read /],
    ];
    for (const [change, message] of refusals) {
      const args = { '--subscriber': SUBSCRIBER, '--referential': 'companies', '--purpose': PURPOSE, '--mode': 'push', '--target': receiver.url } as Record<string, string>;
      for (let i = 0; i < change.length; i += 2) args[change[i] ?? ''] = change[i + 1] ?? '';
      const run = await tabadol('subscription', 'create', ...Object.entries(args).flat());
      expect(run.code, change.join(' ')).toBe(1);
      expect(run.stderr.trim().split('\n'), change.join(' ')).toEqual([expect.stringMatching(message)]);
    }
    const usage = await tabadol('subscription', 'create', '--subscriber', SUBSCRIBER, '--referential', 'companies', '--purpose', PURPOSE, '--mode', 'push', '--target', receiver.url, '--from', 'yesterday');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/option '--from <position>' argument 'yesterday' is invalid/);
  });

  it('shows the subscription in sync status, list and show; rewinds it with --follow until caught up', async () => {
    await expect.poll(() => receiver.changes.filter((c) => c.id.startsWith(subscriptionId)).length, { timeout: 30_000 }).toBe(2);
    await expect.poll(async () => (await subscriptionStatuses(db)).find((s) => s.id === subscriptionId)?.lagChanges, { timeout: 30_000 }).toBe(0);
    expect(await status()).toMatchObject({ subscriber: SUBSCRIBER, referential: 'companies', mode: 'push', state: 'active', delivered: 2, deadLetters: 0, circuit: 'closed' });
    const table = await tabadol('sync', 'status');
    expect(table.stdout.split('\n')[0]).toMatch(/^SUBSCRIPTION +SUBSCRIBER +REFERENTIAL +MODE +STATE +LAG +LAG_S +DELIVERED +FAILED +DUPLICATES +CIRCUIT +DEAD$/);
    expect(table.stdout).toMatch(new RegExp(`^${subscriptionId} +${SUBSCRIBER} +companies +push +active +0 +0\\.0 +2 +0 +0 +closed +0$`, 'm'));
    const list = await tabadol('subscription', 'list', '--subscriber', SUBSCRIBER, '--json');
    expect((JSON.parse(list.stdout) as Subscription[]).map((s) => s.id)).toEqual([subscriptionId]);
    const shown = await tabadol('subscription', 'show', subscriptionId);
    expect(shown.stdout).toContain(`${subscriptionId}: ${SUBSCRIBER} follows companies (push to ${receiver.url}), active`);

    const rewound = await tabadol('subscription', 'rewind', subscriptionId, '--position', '0', '--follow');
    expect(rewound.code, rewound.stderr).toBe(0);
    const lines = rewound.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${subscriptionId} rewound to position 0: the changes after it are delivered again`);
    expect(lines.at(-1)).toMatch(new RegExp(`^${subscriptionId}: caught up; \\d+ delivered, 0 failed, 0 dead letter\\(s\\)$`));
    // Both changes came again (the subscriber deduplicates by delivery id).
    expect(receiver.changes.filter((c) => c.id.startsWith(subscriptionId)).length).toBe(4);
    const refused = await tabadol('subscription', 'rewind', subscriptionId, '--position', '999999');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe('tabadol: --position: is beyond the last change of the feed');
  });

  it('pauses and resumes it (sync aliases too), and refuses an unknown subscription', async () => {
    const paused = await tabadol('subscription', 'pause', subscriptionId);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout.trim()).toBe(`${subscriptionId} is paused`);
    expect((await subscriptionStatuses(db)).find((s) => s.id === subscriptionId)?.state).toBe('paused');
    const follow = await tabadol('sync', 'rewind', subscriptionId, '--position', '0', '--follow');
    expect(follow.code).toBe(1);
    expect(follow.stderr.trim()).toBe(`tabadol: ${subscriptionId} is paused: nothing will be delivered until it is resumed`);
    const resumed = await tabadol('sync', 'resume', subscriptionId);
    expect(resumed.stdout.trim()).toBe(`${subscriptionId} is active (its circuit closed)`);
    const unknown = await tabadol('sync', 'pause', 'sub-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('tabadol: no subscription "sub-000000000000"');
  });

  it('lists, shows and replays a dead letter with --follow, then ends the subscription', async () => {
    receiver.refuse.add('Poison');
    const poison = await give('Poison');
    await expect.poll(async () => listDeadLetters(db, { subscriptionId }), { timeout: 30_000 }).toHaveLength(1);
    const [letter] = await listDeadLetters(db, { subscriptionId });
    const listed = await tabadol('dlq', 'list', '--subscription', subscriptionId, '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: letter?.id, goldenId: poison, lastStatus: 422, type: 'golden.created' })]);
    const shown = await tabadol('dlq', 'show', letter?.id ?? '');
    expect(shown.stdout.split('\n')[0]).toBe(`${letter?.id}: golden.created of companies ${poison} v1`);
    expect((await tabadol('dlq', 'show', 'nope')).stderr.trim()).toBe('tabadol: ID: must be a delivery id <subscription>:<position>, e.g. sub-abc123def456:42');
    expect((await tabadol('dlq', 'replay')).stderr.trim()).toBe('tabadol: --id, --subscription: give exactly one of them');
    expect((await subscriptionStatuses(db)).find((s) => s.id === subscriptionId)).toMatchObject({ deadLetters: 1 });

    receiver.refuse.delete('Poison');
    const replayed = await tabadol('dlq', 'replay', '--subscription', subscriptionId, '--follow');
    expect(replayed.code, replayed.stderr).toBe(0);
    const lines = replayed.stdout.trim().split('\n');
    expect(lines[0]).toBe('1 dead delivery put back for delivery');
    expect(lines.at(-1)).toMatch(new RegExp(`^${subscriptionId}: caught up; \\d+ delivered, \\d+ failed, 0 dead letter\\(s\\)$`));
    expect(receiver.changes.some((c) => c.goldenId === poison)).toBe(true);

    const ended = await tabadol('subscription', 'end', subscriptionId);
    expect(ended.stdout.trim()).toBe(`${subscriptionId} is ended`);
    const again = await tabadol('subscription', 'resume', subscriptionId);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`tabadol: subscription ${subscriptionId} has ended; create a new one`);
    expect((JSON.parse((await tabadol('sync', 'status', '--json')).stdout) as { subscriptions: unknown[] }).subscriptions).toEqual([]);
    const audited = (await db.query<{ action: string }>('SELECT action FROM admin_audit WHERE target LIKE $1 AND actor LIKE $2 ORDER BY id', [`${subscriptionId}%`, 'cli:%'])).rows.map((r) => r.action);
    expect(audited).toEqual(['subscription.create', 'subscription.rewind', 'subscription.pause', 'subscription.rewind', 'subscription.resume', 'dlq.replay', 'subscription.end']);
  });
});
