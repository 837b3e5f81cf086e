// The hub's own transparency service (MA/GOV/HUB/transparency, service `accesses`): for one subject, the exchanges that
// concerned it, from the message log's subject HMACs. Reached through the exchange pipeline like any provider.
import type { HubKeyring } from '../identity/hub-keys.ts';
import type { Queryable } from '../storage/db.ts';
import { adapterProblem, type AdapterBinding, type ProviderResponse } from '../exchange/bindings.ts';
import { operationBinding } from '../exchange/operation-binding.ts';
import { subjectHmac } from '../exchange/subjects.ts';
import { isBigintText, minInstant, parseInstant } from '../storage/storable.ts';

/** The kinds of identifier a report is asked by (the contract's enum for `type`). */
const subjectTypes: readonly string[] = ['cin', 'ice', 'plate'];

/** A refusal naming its field. */
function problem(code: 'request-invalid' | 'not-found', detail: string, location: string): ProviderResponse {
  return adapterProblem(code, detail, [{ location, message: detail }]);
}

export interface AccessRow {
  seq: string;
  at: Date;
  client: string | null;
  client_name: string | null;
  service: string | null;
  operation: string | null;
  purpose: string | null;
  status: number;
  purposes: Array<{ code: string; description: string }> | null;
}

/** The service's adapter binding (bound as hub:transparency by src/hub/services.ts): its one operation. */
export function transparencyBinding(db: Queryable, keyring: HubKeyring): AdapterBinding {
  return operationBinding('transparency', {
    listSubjectAccesses: async (path, params) => {
      // The contract's enum, which the pipeline checked: what else reaches here was not routed by the hub.
      const type = path.type ?? '';
      if (!subjectTypes.includes(type)) return problem('request-invalid', `type must be one of ${subjectTypes.join(', ')}`, 'path.type');
      const id = path.id ?? '';
      // Dates and the cursor are checked against what PostgreSQL holds (timestamptz, bigint) before any SQL.
      const toParam = params.get('to');
      const toInstant = toParam ? parseInstant(toParam) : { ok: true as const, at: new Date() };
      if (!toInstant.ok) return problem('request-invalid', `to ${toInstant.message}`, 'query.to');
      const to = toInstant.at;
      const fromParam = params.get('from');
      const fromInstant = fromParam ? parseInstant(fromParam) : { ok: true as const, at: new Date(Math.max(minInstant.getTime(), to.getTime() - 365 * 86_400_000)) };
      if (!fromInstant.ok) return problem('request-invalid', `from ${fromInstant.message}`, 'query.from');
      const from = fromInstant.at;
      if (from > to) return problem('request-invalid', 'the period ends before it starts', 'query.from');
      const limit = Math.min(200, Math.max(1, Number(params.get('limit') ?? 50) || 50));
      const cursor = params.get('cursor');
      if (cursor !== null && !isBigintText(cursor)) return problem('request-invalid', 'the cursor is not one this report gave', 'query.cursor');

      const hmac = subjectHmac(keyring.subjectKey, type, id);
      // Newest first; the cursor is the last seq of the previous page (seq is the log's total order).
      const rows = await subjectAccessRows(db, hmac, { from, to, cursor, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const accesses = page
        .filter((r) => r.client && r.service && r.operation && r.purpose)
        .map((r) => ({
          at: r.at.toISOString(),
          client: r.client,
          clientName: r.client_name ?? r.client,
          service: r.service,
          operation: r.operation,
          purpose: r.purpose,
          purposeDescription: r.purposes?.find((p) => p.code === r.purpose)?.description ?? r.purpose,
          // A push the subscriber never answered is logged with status 0 (src/sync/pump.ts): told as the protocol's
          // provider-unavailable (502), since the report's contract, and its readers, take an HTTP status.
          status: r.status >= 100 ? r.status : 502,
          logSeq: Number(r.seq),
        }));
      const body = {
        subject: { type, id },
        from: from.toISOString(),
        to: to.toISOString(),
        accesses,
        nextCursor: rows.length > limit ? (page.at(-1)?.seq ?? null) : null,
      };
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
    },
  });
}

/**
 * The log rows about one subject (its HMAC) in [from, to), newest first, before the cursor seq: what the service
 * reports and the console's transparency page shows. Keyset by seq through the subjects' primary key.
 */
export async function subjectAccessRows(db: Queryable, hmac: string, page: { from: Date; to: Date; cursor: string | null; limit: number }): Promise<AccessRow[]> {
  const { rows } = await db.query<AccessRow>(
    `SELECT l.seq, l.at, l.client, m.name AS client_name, l.service, l.operation, l.purpose, l.status,
            c.document->'purposes' AS purposes
       FROM message_subjects s
       JOIN message_log l ON l.seq = s.seq
       LEFT JOIN members m ON m.id = l.client
       LEFT JOIN conventions c ON c.id = l.convention_id AND c.version = l.convention_version
      WHERE s.subject_hmac = $1 AND l.at >= $2 AND l.at < $3 AND ($4::bigint IS NULL OR l.seq < $4::bigint)
      ORDER BY l.seq DESC
      LIMIT $5`,
    [hmac, page.from, page.to, page.cursor, page.limit],
  );
  return rows;
}
