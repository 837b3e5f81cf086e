// The road agents' operations of the infractions contract (contracts/MA.GOV.METLE.infractions/tickets): a batch of
// tickets recorded offline by the "INFRACTIONS ROUTIERES" app (recordInfractionBatch), and a plate checked at the
// roadside (checkPlate). The hub has checked the request against the contract; the body is checked again here so that
// a binding called any other way never sends the system what the contract refuses, and so that a row id given twice
// in one batch (which no schema says) is a 400 naming that row. The system's refusal of a row is that row's result,
// not the batch's failure; a SOAP failure is the protocol's provider problem and the app keeps its batch.
import { z } from 'zod';
import { formatPlate, parsePlate } from '../../referentials/identifiers/index.ts';
import { adapterProblem, type ProviderResponse } from '../../src/exchange/bindings.ts';
import type { OperationTable } from '../../src/exchange/operation-binding.ts';
import { plateCheck, recordInfractions, type BatchRowResult } from './roadside.ts';
import type { SoapCallOptions } from './soap.ts';
import type { TicketView } from './tickets.ts';

/** The contract's bound on a batch: what an agent records in a shift, and an envelope the system takes (64 KiB). */
export const maxBatchRows = 50;

const id = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'is 8 to 64 letters, digits or hyphens');
const batchRow = z.strictObject({
  rowId: id,
  issuedAt: z.string().min(16).max(32),
  communeCode: z.string().min(1).max(16),
  plate: z.string().min(3).max(32),
  driverCin: z.string().min(2).max(16).optional(),
  offenceCode: z.string().min(1).max(8),
});
export const infractionBatch = z.strictObject({
  batchId: id,
  agentId: z.string().regex(/^[A-Za-z0-9-]{2,32}$/, 'is 2 to 32 letters, digits or hyphens'),
  rows: z.array(batchRow).min(1).max(maxBatchRows),
});
export type InfractionBatch = z.infer<typeof infractionBatch>;

function json(value: unknown): ProviderResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)), json: value };
}

const invalid = (detail: string, errors: Array<{ location: string; message: string }>) => adapterProblem('request-invalid', detail, errors.slice(0, 20), Math.max(0, errors.length - 20));

/** The body as a batch, or the 400 naming each row and field that is wrong. */
export function readBatch(body: Uint8Array): InfractionBatch | ProviderResponse {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return invalid('the body is not JSON', [{ location: 'body', message: 'is not JSON' }]);
  }
  const parsed = infractionBatch.safeParse(value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ location: ['body', ...i.path.map(String)].join('.'), message: i.message }));
    return invalid('the batch is malformed', errors);
  }
  const first = new Map<string, number>();
  const twice = parsed.data.rows.flatMap((r, i) => {
    const earlier = first.get(r.rowId);
    if (earlier === undefined) first.set(r.rowId, i);
    return earlier === undefined ? [] : [{ location: `body.rows.${i}.rowId`, message: `is row ${earlier}'s id too: each row has its own` }];
  });
  if (twice.length > 0) return invalid('a row id is given twice in the batch', twice);
  return parsed.data;
}

/** What an agent's terminal shows of a ticket (the binding's answer; the convention minimises it further). */
function ticketJson(t: TicketView): Record<string, unknown> {
  const { sequence: _sequence, ...rest } = t;
  return rest;
}

function counts(results: readonly BatchRowResult[]): Record<'created' | 'duplicate' | 'rejected', number> {
  const c = { created: 0, duplicate: 0, rejected: 0 };
  for (const r of results) c[r.outcome] += 1;
  return c;
}

/** The two operations, for the infractions binding's table; `problem` maps a SoapError to a provider problem. */
export function roadsideOperations(config: { endpoint: string; timeoutMs: number }, problem: (err: unknown) => ProviderResponse): OperationTable {
  const options: SoapCallOptions = { timeoutMs: config.timeoutMs };
  return {
    async recordInfractionBatch(_params, _query, request) {
      const batch = readBatch(request.body);
      if ('status' in batch) return batch;
      try {
        const results = await recordInfractions(config.endpoint, { channel: request.client, agent: batch.agentId, batchId: batch.batchId, rows: batch.rows }, options);
        return json({ batchId: batch.batchId, counts: counts(results), results });
      } catch (err) {
        return problem(err);
      }
    },
    async checkPlate(params) {
      const plate = parsePlate(params.plate ?? '');
      if (!plate.ok) return adapterProblem('request-invalid', 'not a plate', [{ location: 'path.plate', message: 'not a plate (12345-A-6 or 12345-أ-6)' }]);
      try {
        const today = new Date().toISOString().slice(0, 10);
        const check = await plateCheck(config.endpoint, params.plate ?? '', today, options);
        const prefecture = plate.value.type === 'standard' ? plate.value.prefecture.name : null;
        return json({
          vehicle: { plateKey: plate.value.key, plateArabic: formatPlate(plate.value, 'arabic'), plateLatin: formatPlate(plate.value, 'latin'), ...(prefecture ? { prefecture } : {}) },
          ...(check.ownerCin ? { owner: { cin: check.ownerCin } } : {}),
          unpaid: { count: check.unpaid.length, amount: check.unpaid.reduce((sum, t) => sum + t.amount, 0), infractions: check.unpaid.map(ticketJson) },
        });
      } catch (err) {
        return problem(err);
      }
    },
  };
}
