// `tabadol subscription ...`, `tabadol sync ...` and `tabadol dlq ...`: what an operator does with sync subscriptions
// and their dead letters, through the same service functions as the admin API (/admin/v1/subscriptions, /sync/status,
// /dead-letters). Docs: docs/operations.md, "Sync: subscriptions, status and dead letters".
import { InvalidArgumentError, Option, type Command } from 'commander';
import { cliActor } from '../../admin/actor.ts';
import { AdminInputError } from '../../admin/errors.ts';
import type { Config } from '../../config.ts';
import { ConventionRegistry } from '../../conventions/registry.ts';
import type { ActiveConvention } from '../../conventions/store.ts';
import { memberKeyResolver } from '../../identity/key-resolvers.ts';
import { ProblemError } from '../../http/problem.ts';
import type { Db } from '../../storage/db.ts';
import { getDeadLetter, listDeadLetters, replayDeadLetters, type DeadLetter } from '../../sync/dead-letters.ts';
import { followSubscription } from '../../sync/progress.ts';
import { subscriptionStatuses, type SubscriptionStatus } from '../../sync/status.ts';
import { adapterStatuses, type AdapterStatus } from '../../sync/inbound.ts';
import {
  createSubscription,
  getSubscription,
  listSubscriptions,
  rewindSubscription,
  setSubscriptionState,
  type Subscription,
  type SubscriptionMode,
  type SubscriptionState,
} from '../../sync/subscriptions.ts';
import { action, CliRefusalError, printJson, printLines, printTable, withConfigOption, withDatabase, type CliDeps } from '../run.ts';
import { verifyingKeyring } from './keyring.ts';

type ConfigOpts = { config?: string };

/** How often `--follow` reads the subscription's status. */
const followEveryMs = 500;

// ---- option parsers (a refusal here is a usage error: commander names the option, exit 2) ----------------------------

function parsePosition(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('must be a change position (0 or more)');
  return Number(value);
}

function parseFrom(value: string): number | 'start' | 'now' {
  if (value === 'start' || value === 'now') return value;
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError("must be a change position (0 or more), 'start' or 'now'");
  return Number(value);
}

function parseBatchSize(value: string): number {
  if (!/^\d{1,4}$/.test(value)) throw new InvalidArgumentError('must be an integer between 1 and 1000');
  return Number(value);
}

function parseLimit(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) throw new InvalidArgumentError('must be an integer between 1 and 1000');
  return Number(value);
}

const parseList = (value: string): string[] => value.split(',').map((t) => t.trim()).filter((t) => t !== '');

// ---- refusals named by option ----------------------------------------------------------------------------------------

const kebab = (field: string): string => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Runs a service call, naming the option at fault where the service names a field (AdminInputError): `--batch-size`
 * for `batchSize`, or the argument (`ID`) where the field is the positional one; a problem (ProblemError) by its detail.
 */
async function namingOptions<T>(work: () => Promise<T>, positional: Readonly<Record<string, string>> = {}): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AdminInputError) throw new CliRefusalError([`${positional[err.location] ?? `--${kebab(err.location)}`}: ${err.message}`]);
    // A refusal the API answers as a problem (no such subscription, ended, no convention): its detail says it all.
    if (err instanceof ProblemError) throw new CliRefusalError([err.detail]);
    throw err;
  }
}

/** The active conventions as a hub would enforce them (re-verified): none when this DATA_DIR has no hub keys yet. */
async function conventionFinder(config: Config, db: Db): Promise<(consumer: string, provider: string, service: string) => ActiveConvention | undefined> {
  const keyring = await verifyingKeyring(config);
  if (!keyring) return () => undefined;
  const registry = new ConventionRegistry(db, { resolveKey: memberKeyResolver(db), keyring });
  await registry.reload();
  return (consumer, provider, service) => registry.find(consumer, provider, service);
}

// ---- output --------------------------------------------------------------------------------------------------------

function subscriptionLines(s: Subscription): string[] {
  return [
    `${s.id}: ${s.subscriber} follows ${s.referential} (${s.mode}${s.target ? ` to ${s.target}` : ''}), ${s.state}`,
    `  convention ${s.conventionId}, purpose ${s.purpose}`,
    `  types ${s.types?.join(', ') ?? 'all'}; scope ${s.scope ?? 'everywhere'}; batch size ${s.batchSize}`,
    `  cursor ${s.cursor}; delivered ${s.deliveredCount}, failed ${s.failedCount}, duplicates ${s.duplicateCount}`,
    `  circuit ${s.circuitOpenUntil && s.circuitOpenUntil.getTime() > Date.now() ? `open until ${s.circuitOpenUntil.toISOString()}` : 'closed'}${s.lastError ? `; last error: ${s.lastError}` : ''}`,
  ];
}

export function printStatusTable(statuses: readonly SubscriptionStatus[]): void {
  printTable(
    ['SUBSCRIPTION', 'SUBSCRIBER', 'REFERENTIAL', 'MODE', 'STATE', 'LAG', 'LAG_S', 'DELIVERED', 'FAILED', 'DUPLICATES', 'CIRCUIT', 'DEAD'],
    statuses.map((s) => [
      s.id,
      s.subscriber,
      s.referential,
      s.mode,
      s.state,
      `${s.lagCapped ? '>=' : ''}${s.lagChanges}`,
      s.lagSeconds.toFixed(1),
      String(s.delivered),
      String(s.failed),
      String(s.duplicates),
      s.circuit,
      String(s.deadLetters),
    ]),
  );
}

/** The systems' inbound side: what each adapter pulled from its system into the referentials. */
export function printAdapterTable(adapters: readonly AdapterStatus[]): void {
  const age = (at: Date | null) => (at ? `${Math.max(0, Math.round((Date.now() - at.getTime()) / 1000))} s ago` : 'never');
  printTable(
    ['ADAPTER', 'SYSTEM', 'PULLED', 'LAST_SUCCESS', 'ERRORS', 'LAST_ERROR'],
    adapters.map((a) => [a.adapter, a.system, String(a.pulled), age(a.lastSuccessAt), `${a.errors}${a.consecutiveErrors > 0 ? ` (${a.consecutiveErrors} in a row)` : ''}`, (a.lastError ?? '').slice(0, 80)]),
  );
}

function deadLetterLines(d: DeadLetter): string[] {
  return [
    `${d.id}: ${d.type} of ${d.referential} ${d.goldenId} v${d.version}`,
    `  change at ${d.changeAt.toISOString()}, dead at ${d.deadAt.toISOString()} after ${d.attempts} attempt(s)`,
    `  last answer: ${d.lastStatus ?? 'none'}${d.lastError ? ` (${d.lastError})` : ''}`,
  ];
}

/** `--follow`: progress until caught up; refused (exit 1) when the subscription is paused or ended meanwhile. */
async function follow(db: Db, id: string): Promise<void> {
  const { outcome } = await followSubscription(db, id, { print: (line) => printLines([line]), everyMs: followEveryMs });
  if (outcome !== 'caught-up') throw new CliRefusalError([`${id} is ${outcome}: nothing will be delivered until it is resumed`]);
}

// ---- commands ------------------------------------------------------------------------------------------------------

/** pause, resume and end; `sync pause|resume` are the same commands under another name. */
function addStateCommand(group: Command, deps: CliDeps, name: 'pause' | 'resume' | 'end', to: SubscriptionState, description: string): void {
  withConfigOption(group.command(name).argument('<id>', 'the subscription (sub-…)'))
    .description(description)
    .action(
      action(async (id: string, opts: ConfigOpts) => {
        const config = deps.readConfig(opts.config);
        const s = await withDatabase(config, `POST /admin/v1/subscriptions/{id}/${name}`, (db) => namingOptions(() => setSubscriptionState(db, id, to, cliActor())));
        printLines([`${s.id} is ${s.state}${to === 'active' ? ' (its circuit closed)' : ''}`]);
      }),
    );
}

function addRewindCommand(group: Command, deps: CliDeps): void {
  withConfigOption(group.command('rewind').argument('<id>', 'the subscription (sub-…)'))
    .description('move the cursor to a change position: the changes after it are delivered again')
    .requiredOption('--position <n>', 'the change position to go back to (0: the whole feed)', parsePosition)
    .option('--follow', 'print what is left to deliver until caught up')
    .action(
      action(async (id: string, opts: ConfigOpts & { position: number; follow?: boolean }) => {
        const config = deps.readConfig(opts.config);
        await withDatabase(config, 'POST /admin/v1/subscriptions/{id}/rewind', async (db) => {
          const s = await namingOptions(() => rewindSubscription(db, id, opts.position, cliActor()));
          printLines([`${s.id} rewound to position ${s.cursor}: the changes after it are delivered again`]);
          if (opts.follow) await follow(db, s.id);
        });
      }),
    );
}

function registerSubscriptionGroup(program: Command, deps: CliDeps): void {
  const subscription = program.command('subscription').description("subsystems' standing requests for a referential's changes (sync)");

  withConfigOption(subscription.command('create'))
    .description('subscribe a subsystem to a referential, under its active convention (listChanges, the purpose)')
    .requiredOption('--subscriber <id>', 'the subscriber subsystem')
    .requiredOption('--referential <name>', 'the referential followed (persons, companies, vehicles)')
    .requiredOption('--purpose <code>', 'a purpose of the convention')
    .addOption(new Option('--mode <mode>', 'how changes reach the subscriber').choices(['push', 'pull', 'file']).makeOptionMandatory())
    .option('--target <where>', 'push: its URL or adapter:NAME; file: an absolute folder; pull: none')
    .option('--types <list>', 'only these change types, comma-separated (golden.created,golden.updated,…)', parseList)
    .option('--scope <code>', 'only records in this territory: region 01, province 01.051, commune 01.051.11.01')
    .option('--from <position>', "where to start: a change position, 'start' or 'now' (default)", parseFrom)
    .option('--batch-size <n>', 'changes per push, 1 to 1000 (default 100)', parseBatchSize)
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { subscriber: string; referential: string; purpose: string; mode: SubscriptionMode; target?: string; types?: string[]; scope?: string; from?: number | 'start' | 'now'; batchSize?: number; json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const created = await withDatabase(config, 'POST /admin/v1/subscriptions', async (db) => {
          const findConvention = await conventionFinder(config, db);
          const input = { subscriber: opts.subscriber, referential: opts.referential, purpose: opts.purpose, mode: opts.mode, target: opts.target, types: opts.types, scope: opts.scope, from: opts.from, batchSize: opts.batchSize };
          return namingOptions(() => createSubscription({ db, findConvention, referentials: deps.referentials.names() }, { ...input, actor: cliActor() }));
        });
        if (opts.json) return printJson(created);
        printLines([`created ${created.id}`, ...subscriptionLines(created).slice(1)]);
      }),
    );

  withConfigOption(subscription.command('list'))
    .description('subscriptions, oldest first')
    .option('--subscriber <id>', 'only this subscriber')
    .addOption(new Option('--state <state>', 'only this state').choices(['active', 'paused', 'ended']))
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { subscriber?: string; state?: SubscriptionState; json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const subs = await withDatabase(config, 'GET /admin/v1/subscriptions', (db) => listSubscriptions(db, { subscriber: opts.subscriber, state: opts.state }));
        if (opts.json) return printJson(subs);
        printTable(
          ['ID', 'SUBSCRIBER', 'REFERENTIAL', 'MODE', 'STATE', 'CURSOR', 'TARGET'],
          subs.map((s) => [s.id, s.subscriber, s.referential, s.mode, s.state, String(s.cursor), s.target ?? '']),
        );
      }),
    );

  withConfigOption(subscription.command('show').argument('<id>', 'the subscription (sub-…)'))
    .description('one subscription')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string, opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const found = await withDatabase(config, 'GET /admin/v1/subscriptions/{id}', (db) => getSubscription(db, id));
        if (!found) throw new CliRefusalError([`no subscription ${JSON.stringify(id).slice(0, 80)}`]);
        if (opts.json) return printJson(found);
        printLines(subscriptionLines(found));
      }),
    );

  addStateCommand(subscription, deps, 'pause', 'paused', 'pause: nothing is sent; its place in the feed is kept');
  addStateCommand(subscription, deps, 'resume', 'active', 'resume (closes its circuit: the target is said to be back)');
  addRewindCommand(subscription, deps);
  addStateCommand(subscription, deps, 'end', 'ended', 'end for good: nothing more is delivered');
}

function registerSyncGroup(program: Command, deps: CliDeps): void {
  const sync = program.command('sync').description('the sync engine as an operator sees it: status, and the subscription commands by another name');

  withConfigOption(sync.command('status'))
    .description("per subscription: lag in changes and seconds, deliveries, failures, duplicates, circuit, dead letters; per adapter: the system's records pulled in, errors")
    .option('--all', 'ended subscriptions too')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { all?: boolean; json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const { statuses, adapters } = await withDatabase(config, 'GET /admin/v1/sync/status', async (db) => ({
          statuses: await subscriptionStatuses(db, { all: opts.all === true }),
          adapters: await adapterStatuses(db),
        }));
        if (opts.json) return printJson({ subscriptions: statuses, adapters });
        printStatusTable(statuses);
        if (adapters.length > 0) {
          printLines(['']);
          printAdapterTable(adapters);
        }
      }),
    );

  addStateCommand(sync, deps, 'pause', 'paused', 'the same as subscription pause');
  addStateCommand(sync, deps, 'resume', 'active', 'the same as subscription resume');
  addRewindCommand(sync, deps);
}

function registerDlqGroup(program: Command, deps: CliDeps): void {
  const dlq = program.command('dlq').description('dead letters: deliveries that failed past their retries');

  withConfigOption(dlq.command('list'))
    .description('dead deliveries, by subscription and position')
    .option('--subscription <id>', "only this subscription's")
    .option('--limit <n>', 'at most this many (default 100, at most 1000)', parseLimit)
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: ConfigOpts & { subscription?: string; limit?: number; json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const dead = await withDatabase(config, 'GET /admin/v1/dead-letters', (db) => namingOptions(() => listDeadLetters(db, { subscriptionId: opts.subscription, limit: opts.limit })));
        if (opts.json) return printJson(dead);
        printTable(
          ['ID', 'REFERENTIAL', 'GOLDEN_ID', 'VERSION', 'TYPE', 'ATTEMPTS', 'LAST', 'DEAD_AT'],
          dead.map((d) => [d.id, d.referential, d.goldenId, String(d.version), d.type, String(d.attempts), String(d.lastStatus ?? '-'), d.deadAt.toISOString()]),
        );
      }),
    );

  withConfigOption(dlq.command('show').argument('<id>', 'the delivery id (sub-…:POSITION)'))
    .description('one dead delivery')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string, opts: ConfigOpts & { json?: boolean }) => {
        const config = deps.readConfig(opts.config);
        const found = await withDatabase(config, 'GET /admin/v1/dead-letters/{id}', (db) => namingOptions(() => getDeadLetter(db, id), { id: 'ID' }));
        if (!found) throw new CliRefusalError([`no dead delivery ${JSON.stringify(id).slice(0, 80)} (never dead, or replayed since)`]);
        if (opts.json) return printJson(found);
        printLines(deadLetterLines(found));
      }),
    );

  withConfigOption(dlq.command('replay'))
    .description('put dead deliveries back for a fresh set of attempts: one (--id) or all of a subscription (--subscription)')
    .option('--id <delivery>', 'one dead delivery (sub-…:POSITION)')
    .option('--subscription <id>', "every dead delivery of this subscription, in order")
    .option('--follow', 'print what is left to deliver until caught up')
    .action(
      action(async (opts: ConfigOpts & { id?: string; subscription?: string; follow?: boolean }) => {
        if ((opts.id === undefined) === (opts.subscription === undefined)) throw new CliRefusalError(['--id, --subscription: give exactly one of them']);
        const config = deps.readConfig(opts.config);
        await withDatabase(config, 'POST /admin/v1/dead-letters/replay', async (db) => {
          const target = opts.id !== undefined ? { id: opts.id } : { subscriptionId: opts.subscription ?? '' };
          const replayed = await namingOptions(() => replayDeadLetters(db, target, cliActor()));
          printLines([`${replayed} dead deliver${replayed === 1 ? 'y' : 'ies'} put back for delivery`]);
          const subscriptionId = opts.id !== undefined ? opts.id.split(':')[0] : opts.subscription;
          if (opts.follow && subscriptionId) await follow(db, subscriptionId);
        });
      }),
    );
}

export function registerSyncCommands(program: Command, deps: CliDeps): void {
  registerSubscriptionGroup(program, deps);
  registerSyncGroup(program, deps);
  registerDlqGroup(program, deps);
}
