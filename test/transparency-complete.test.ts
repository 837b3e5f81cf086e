// "Who looked at my data" is complete for the golden-record services: every operation of persons, companies and
// vehicles that reads or writes a record is recorded under its subjects (src/exchange/referential-subjects.ts), with a
// convention that declares no `subjects` at all, and the citizen portal's report names each of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxSubjectsPerExchange } from '../src/exchange/referential-subjects.ts';
import { openReferentials, referentialsSubsystem as referentials } from './helpers/referential-world.ts';
import { portalPurpose, startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';

const consumerId = 'MA/GOV/TEST/guichet';
const purpose = 'referential-test';

interface Case {
  name: 'persons' | 'companies' | 'vehicles';
  type: 'cin' | 'ice' | 'plate';
  /** Two subjects: one contributed alone, one by batch. */
  values: [string, string];
  /** How the citizen may write the first one (another written form of the same identifier). */
  asTyped: string;
  attributes(value: string): Record<string, unknown>;
  search?: string;
}

const cases: Case[] = [
  { name: 'persons', type: 'cin', values: ['BK771234', 'BK771235'], asTyped: 'bk 771234', attributes: (cin) => ({ cin, firstNameLatin: 'Salma', lastNameLatin: 'Berrada', birthDate: '1984-05-06' }), search: 'Berrada' },
  { name: 'companies', type: 'ice', values: ['001525487000088', '001525487000089'], asTyped: '001 525 487 000 088', attributes: (ice) => ({ ice, nameFr: 'Oasis Travaux Publics SARL', legalForm: 'SARL' }), search: 'Oasis Travaux' },
  { name: 'vehicles', type: 'plate', values: ['40512-A-6', '40513-A-6'], asTyped: '40512 A 6', attributes: (plate) => ({ plate, make: 'DACIA', model: 'LOGAN', owner: { type: 'person', cin: 'JK900001' } }) },
];

describe('the citizen view of the golden-record services', () => {
  let world: ExchangeWorld;
  let consumer: Consumer;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pglite', redis: false });
    consumer = await world.registerConsumer(consumerId);
    await openReferentials(world, consumer, purpose);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  /** The operations the citizen portal reports for a subject, oldest first. */
  async function reported(type: string, value: string): Promise<string[]> {
    const answer = await world.portal.client().call('GET', `/x/v1/MA/GOV/HUB/transparency/accesses/subjects/${type}/${encodeURIComponent(value)}/accesses?limit=200`, { purpose: portalPurpose });
    expect(answer.status, answer.body).toBe(200);
    const body = JSON.parse(answer.body) as { accesses: Array<{ service: string; operation: string; client: string }> };
    return body.accesses
      .filter((a) => a.client === consumerId)
      .map((a) => `${a.service.split('/').at(-1)}.${a.operation}`)
      .reverse();
  }

  it.each(cases)('records every $name operation that reads or writes a record under its $type', async (c) => {
    const client = consumer.client();
    const base = `/x/v1/${referentials}/${c.name}`;
    const call = async (method: string, target: string, body?: string, contentType?: string) => {
      const answer = await client.call(method, `${base}${target}`, { purpose, ...(body !== undefined ? { body, contentType } : {}) });
      expect(answer.status, `${method} ${target}: ${answer.body}`).toBeLessThan(300);
      return JSON.parse(answer.body) as Record<string, unknown>;
    };
    const [first, second] = c.values;
    const contributed = await call('POST', '/contributions', JSON.stringify({ sourceId: 'dossier-1', attributes: c.attributes(first) }));
    const goldenId = String(contributed.goldenId);
    await call('GET', `/records/${goldenId}`);
    await call('GET', `/records/${goldenId}/history`);
    await call('GET', `/by-key/${c.type}/${encodeURIComponent(first)}`);
    await call('GET', `/by-source/${consumerId.replaceAll('/', '.')}/dossier-1`);
    await call('POST', '/resolve', JSON.stringify({ items: [{ goldenId }] }));
    if (c.search) {
      const found = await call('GET', `/search?q=${encodeURIComponent(c.search)}`);
      expect((found.hits as unknown[]).length).toBeGreaterThan(0);
    }
    const batch = `${JSON.stringify({ sourceId: 'dossier-2', attributes: c.attributes(second) })}\n`;
    await call('POST', `/batches?batchId=b-${c.name}`, batch, 'application/x-ndjson');
    await call('GET', `/batches/b-${c.name}`);
    await call('GET', '/changes');

    const expected = [
      'contribute',
      'getRecord',
      'getHistory',
      'getByKey',
      'getBySource',
      'resolveMany',
      ...(c.search ? ['search'] : []),
    ].map((op) => `${c.name}.${op}`);
    // The citizen writes the identifier as they like: the same normalised subject.
    expect(await reported(c.type, c.asTyped)).toEqual(expected);
    // The batch's record is recorded when uploaded (it is written later, by the queue).
    expect(await reported(c.type, second)).toEqual([`${c.name}.submitBatch`]);
    // A lookup that finds nothing is still someone asking about that subject.
    const missing = c.type === 'cin' ? 'ZZ999999' : c.type === 'ice' ? '009999999000012' : '99999-B-1';
    const notFound = await client.call('GET', `${base}/by-key/${c.type}/${encodeURIComponent(missing)}`, { purpose });
    expect(notFound.status).toBe(404);
    expect(await reported(c.type, missing)).toEqual([`${c.name}.getByKey`]);
  });

  it("records a vehicle's owner as a subject of the vehicle's exchanges", async () => {
    const operationsSeen = await reported('cin', 'JK900001');
    expect(operationsSeen).toContain('vehicles.contribute');
    expect(operationsSeen).toContain('vehicles.getByKey');
    expect(operationsSeen).toContain('vehicles.submitBatch');
  });

  it('bounds the subjects one exchange records', async () => {
    const client = consumer.client();
    const n = maxSubjectsPerExchange + 20;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ sourceId: `bulk-${i}`, attributes: { cin: `QQ${String(100000 + i)}`, firstNameLatin: 'Bulk', lastNameLatin: 'Person' } })).join('\n');
    const answer = await client.call('POST', `/x/v1/${referentials}/persons/batches?batchId=bulk-bound`, { purpose, body: lines, contentType: 'application/x-ndjson' });
    expect(answer.status, answer.body).toBe(202);
    const { rows } = await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_subjects WHERE seq = $1', [answer.logId]);
    expect(rows[0]?.n).toBe(maxSubjectsPerExchange);
    expect(await reported('cin', `QQ${String(100000 + maxSubjectsPerExchange - 1)}`)).toEqual(['persons.submitBatch']);
    expect(await reported('cin', `QQ${String(100000 + maxSubjectsPerExchange)}`)).toEqual([]);
  });
});
