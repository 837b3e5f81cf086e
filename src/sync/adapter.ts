// The adapter interface (docs/sync.md, "Writing an adapter"): what an adapters/<system>/ module gives the hub to bring a
// system's records in (pull with a cursor, webhooks, a drop folder) and to hand it the referentials' changes (deliver).
// The core runs adapters (src/sync/inbound.ts) and never imports one: they come through HubParts.syncAdapters.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ReferentialModule } from '../golden/module.ts';
import type { Queryable } from '../storage/db.ts';
import type { HandedPush } from './push.ts';

/** One record of a source system, as an adapter hands it to the hub. */
export interface InboundRecord {
  /** The referential it belongs to (persons, companies, vehicles…). */
  referential: string;
  /** The system that holds it (its trust rank in survivorship comes from this name). */
  sourceSystem: string;
  /** Its id in that system. */
  sourceId: string;
  /** Its version in that system (a counter, an update time): the same version twice is taken in once. */
  sourceVersion: string;
  /** Its attributes in the referential's vocabulary (the referential's module validates them). */
  attributes: Record<string, unknown>;
}

/** What an adapter's functions receive. */
export interface AdapterContext<Config> {
  /** The adapter's configuration, as its zod schema parsed it. */
  config: Config;
  logger: Logger;
  /** Aborted when the hub stops or the call runs out of time: pass it to fetch. */
  signal: AbortSignal;
}

export interface AdapterHealth {
  ok: boolean;
  detail?: string;
}

export interface PullResult {
  records: InboundRecord[];
  /** Where the next pull starts (stored in PostgreSQL only once the records are queued). null: from the start. */
  cursor: string | null;
  /** More is waiting: pull again at once rather than after `every`. */
  more?: boolean;
}

/** A request to an adapter's webhook, its body as bytes (so a signature over them can be checked). */
export interface WebhookRequest {
  header(name: string): string | undefined;
  body: Uint8Array;
}

/** A file the drop folder found. */
export interface DroppedFile {
  name: string;
  content: Buffer;
}

/** A file refused as a whole: nothing of it is taken in; it goes to the quarantine with this report. */
export interface QuarantineReport {
  quarantine: Array<{ line: number; reason: string }>;
}

export interface SyncAdapterDefinition<Config> {
  /** The adapter's name: its cursor row, its `adapter:<id>` delivery target, its webhook path. [a-z0-9-]. */
  id: string;
  /** The system it speaks to: the ingest queue's topic is `ingest.<system>`. [a-z0-9-]. */
  system: string;
  /** Checks and completes the configuration (stored with configureAdapter, or all defaults when none is stored). */
  config: z.ZodType<Config>;
  health(ctx: AdapterContext<Config>): Promise<AdapterHealth>;
  /** Reads the system's changes since `cursor` (null the first time), every `every` ms. */
  pull?: { every: number; run(ctx: AdapterContext<Config>, cursor: string | null): Promise<PullResult> };
  /** Receives the system's calls at POST /sync/v1/adapters/<id>/webhook. `verify` false: 401, nothing read. */
  webhook?: { verify(ctx: AdapterContext<Config>, req: WebhookRequest): Promise<boolean> | boolean; parse(body: Uint8Array): InboundRecord[] };
  /** Reads the files a system drops into a folder (taken, then moved to done/ or quarantine/ beside them). */
  dropFolder?: { every?: number; path(config: Config): string; parse(file: DroppedFile, config: Config): InboundRecord[] | QuarantineReport | Promise<InboundRecord[] | QuarantineReport> };
  /**
   * Receives pushed changes of subscriptions whose target is `adapter:<id>`, with the configuration stored by
   * configureAdapter (as pull and health get it; not configured: the delivery fails and the push worker retries it).
   * Throw PermanentDeliveryError (src/sync/push.ts) for a change the system refuses for good.
   */
  deliver?(push: HandedPush, ctx: AdapterContext<Config>): Promise<void>;
  /**
   * Called by the system's ingest worker after a job of this adapter's records was taken in, in the same transaction
   * (what it writes commits with the records, or not at all; a job delivered twice calls it twice, so it must be
   * idempotent). Each record's outcome is in sync_ingested. The regional offices open review items for conflicts here.
   */
  afterIngest?(tx: Queryable, records: readonly InboundRecord[], ctx: { resolve: (referential: string) => ReferentialModule | undefined; logger: Logger }): Promise<void>;
}

/** An adapter as the hub runs it (the configuration type erased: the runner parses it with the adapter's schema). */
export type SyncAdapter = SyncAdapterDefinition<unknown> & { readonly kind: 'sync-adapter' };

const namePattern = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** Checks an adapter's definition once, where it is written, so that a bad name fails at import and not at start. */
export function defineAdapter<Config>(definition: SyncAdapterDefinition<Config>): SyncAdapter {
  if (!namePattern.test(definition.id)) throw new Error(`adapter id ${JSON.stringify(definition.id)} must match ${namePattern}`);
  if (!namePattern.test(definition.system)) throw new Error(`adapter ${definition.id}: system ${JSON.stringify(definition.system)} must match ${namePattern}`);
  if (definition.pull && !(Number.isFinite(definition.pull.every) && definition.pull.every >= 10)) throw new Error(`adapter ${definition.id}: pull.every must be at least 10 ms`);
  if (!definition.pull && !definition.webhook && !definition.dropFolder && !definition.deliver) throw new Error(`adapter ${definition.id}: gives none of pull, webhook, dropFolder, deliver`);
  return { ...(definition as unknown as SyncAdapterDefinition<unknown>), kind: 'sync-adapter' };
}

export function isQuarantine(parsed: InboundRecord[] | QuarantineReport): parsed is QuarantineReport {
  return !Array.isArray(parsed);
}
