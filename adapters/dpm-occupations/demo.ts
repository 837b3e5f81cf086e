// The maritime public-domain occupation register in the demo (adapters/demo/systems.ts): its simulator beside the hub,
// its permits service bound to it, its holders pulled into the referentials and the golden company and person changes
// pushed back to it. The second step of the demo's "a change travels": the BTP platform's demo company (demoIces.
// qualified) holds permits here, so renaming it in the BTP platform renames the permits' holder.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindService } from '../../src/exchange/bindings.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions } from '../../src/sync/subscriptions.ts';
import type { PluginContext } from '../../src/plugins.ts';
import type { DemoSystemContext, RunningDemoSystem } from '../demo/demo-system.ts';
import { startActivity } from '../demo/activity.ts';
import { recordSimulator } from '../demo/simulator-record.ts';
import { prng } from '../btp-qualification/data.ts';
import { dpmAdapter, dpmAdapterConfig, dpmSubscriptionInputs, dpmSubsystem } from './adapter.ts';
import { dpmBinding, dpmBindingName, dpmService } from './binding.ts';
import { btpHolderIces, type PersonHolder } from './data.ts';
import { startDpmSimulator } from './simulator.ts';


/** Its push subscriptions, created once (a later start finds them active, with the same target, and keeps their cursors). */
async function ensureSubscriptions(context: PluginContext, actor: string): Promise<string[]> {
  const existing = await listSubscriptions(context.db, { subscriber: dpmSubsystem, state: 'active' });
  const ids: string[] = [];
  for (const input of dpmSubscriptionInputs()) {
    const found = existing.find((s) => s.referential === input.referential && s.mode === 'push' && s.target === input.target);
    ids.push(found?.id ?? (await createSubscription(
      { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
      { ...input, actor },
    )).id);
  }
  return ids;
}

async function start(ctx: DemoSystemContext): Promise<RunningDemoSystem> {
  const { context } = ctx;
  const token = randomBytes(24).toString('hex');
  const sim = await startDpmSimulator({ token, seed: 16 });
  try {
    // The binding holds this start's address and token: registered anew, and the service bound to it.
    context.services.adapters.register(dpmBindingName, dpmBinding({ baseUrl: sim.url, token }));
    await bindService(context.db, { serviceId: dpmService, binding: { kind: 'adapter', adapter: dpmBindingName, timeoutMs: 5000 }, actor: ctx.actor });
    await context.services.directory.reload();
    await configureAdapter(context.db, dpmAdapter, { baseUrl: sim.url, token });
    // A first health check hands the adapter its configuration now, so that the pushes its subscriptions start with are
    // delivered rather than failed and retried until the first pull (deliver receives no configuration).
    await dpmAdapter.health({ config: dpmAdapterConfig.parse({ baseUrl: sim.url, token }), logger: context.logger, signal: AbortSignal.timeout(5000) });
    const subscriptions = await ensureSubscriptions(context, ctx.actor);
    const tokenFile = join(ctx.demoDir, 'dpm-occupations-token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    recordSimulator(ctx.demoDir, 'dpm-occupations', { url: sim.url, tokenFile });

    // The service at work: projects move on; now and then the counter re-types a holder's name, one way then back
    // (the flip-flop real registers hold), which reaches the persons referential as two versions.
    const random = prng(1914);
    const flipper = sim.store.data.holders.find((h): h is PersonHolder => h.kind === 'person' && h.nomLatin !== undefined);
    const original = flipper?.nomLatin ?? '';
    let steps = 0;
    const activity = startActivity({
      name: 'dpm-occupations', everyMs: 7000, enabled: ctx.activity, logger: context.logger,
      step: async () => {
        steps++;
        const done = sim.store.work(random, new Date().toISOString().slice(0, 10));
        if (done) context.logger.debug({ system: 'dpm-occupations', done }, 'demo activity');
        if (flipper && steps % 5 === 0) sim.store.editHolder(flipper.ref, (h) => void ((h as PersonHolder).nomLatin = (h as PersonHolder).nomLatin === original ? original.toUpperCase() : original));
      },
    });
    return {
      banner: [
        `simulator at ${sim.url} (${sim.store.data.permits.length} permits, ${sim.store.data.holders.length} holders); holders pulled into companies/persons, their changes pushed back (${subscriptions.join(', ')})`,
        `BTP → DPM: rename ${btpHolderIces[0]} in the BTP platform (the curl above) → companies golden record → the permits' holder renamed`,
        `permits served as ${dpmService} (by company, person, commune) to ${'MA/GOV/MI/collectivites-territoriales'}; integration token in ${tokenFile}`,
      ],
      async stop() {
        await activity.stop();
        await sim.close();
      },
    };
  } catch (err) {
    await sim.close();
    throw err;
  }
}

export const dpmDemoSystem = {
  name: 'dpm-occupations',
  subsystems: [{ id: dpmSubsystem, name: "Ministère de l'Équipement et de l'Eau (METLE): occupations temporaires du domaine public maritime" }],
  start,
} as const;
