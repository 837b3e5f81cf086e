// The driving-licence exam appointment system in the demo (adapters/demo/systems.ts): its simulator beside the hub
// with its integration token in a 0600 file, its appointments service bound as MA/GOV/METLE/permis-rdv/appointments,
// its adapter configured (candidates → persons, schools → companies), a push subscription of person changes
// (identity corrections, deaths, licence suspensions from the infractions system), and gentle activity: a booking
// (refused, with its reason, for a CIN whose licence is suspended), an exam result, a candidate moving house.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginContext } from '../../src/plugins.ts';
import type { DemoSystemContext, RunningDemoSystem } from '../demo/demo-system.ts';

import { bindService } from '../../src/exchange/bindings.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions, type SubscriptionInput } from '../../src/sync/subscriptions.ts';
import { Random } from '../../referentials/generator/random.ts';
import { startActivity } from '../demo/activity.ts';
import { recordSimulator } from '../demo/simulator-record.ts';
import { permisAdapter, permisAdapterId, permisSyncPurpose } from './adapter.ts';
import { permisBinding, permisService, permisSubsystem } from './binding.ts';
import { examSlots, requestUses } from './data.ts';
import { startPermisSimulator, type PermisSimulator } from './simulator.ts';

/** The adapter binding's name (service_bindings.adapter) of the appointments service. */
export const permisBindingName = 'permis-rdv-appointments';
/** The same persons as the infractions demo's drivers (adapters/infractions/demo.ts demoDriverSeed). */
const seed = 15;

const subscriptionInput: SubscriptionInput = { subscriber: permisSubsystem, referential: 'persons', purpose: permisSyncPurpose, mode: 'push', target: `adapter:${permisAdapterId}`, from: 'now', batchSize: 50 };

async function ensureSubscription(context: PluginContext, actor: string): Promise<string> {
  const existing = await listSubscriptions(context.db, { subscriber: permisSubsystem, state: 'active' });
  const found = existing.find((s) => s.referential === 'persons' && s.purpose === permisSyncPurpose && s.target === subscriptionInput.target);
  if (found) return found.id;
  return (await createSubscription(
    { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
    { ...subscriptionInput, actor },
  )).id;
}

/** One step of the system's own life (its counter's work), through its own API where a client would use it. */
async function step(sim: PermisSimulator, token: string, r: Random, n: number): Promise<string> {
  const { data } = sim.store;
  const candidate = r.pick(data.candidates);
  if (n % 4 === 1) {
    const request = data.requests.find((q) => q.examStatus === 'Non passé');
    if (request) request.examStatus = 'Passé';
    return `exam of request ${request?.number ?? '-'} passed`;
  }
  if (n % 4 === 3) {
    // A candidate's new address, typed at the counter: listed to the hub at its next pull.
    const other = r.pick(data.candidates);
    candidate.commune = other.commune;
    sim.store.touchCandidate(candidate);
    return `candidate ${candidate.cin} moved`;
  }
  // Every other step books for the infractions demo's repeat offender, so that its suspension shows as a refusal.
  const cin = n % 8 === 0 ? (data.candidates[3] ?? candidate).cin : candidate.cin;
  const centre = r.pick(data.centres);
  const day = new Date(Date.now() + r.int(7, 60) * 86_400_000).toISOString().slice(0, 10);
  const answer = await fetch(`${sim.url}/appointments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cin, centre: centre.code, date: day, slot: r.pick(examSlots), use: r.pick(requestUses), schoolAgentNumber: r.pick(data.schools).agentNumber }),
  });
  const body = (await answer.json()) as { number?: string; title?: string };
  return answer.ok ? `booking ${body.number ?? ''} for ${cin}` : `booking for ${cin} refused: ${body.title ?? answer.status}`;
}

export const permisDemo = {
  name: 'permis-rdv',
  subsystems: [{ id: permisSubsystem, name: 'Ministère du Transport et de la Logistique (METLE): rendez-vous d\'examen du permis de conduire' }],
  async start(ctx: DemoSystemContext): Promise<RunningDemoSystem> {
    const { context } = ctx;
    const token = randomBytes(24).toString('hex');
    const sim = await startPermisSimulator({ token, seed });
    try {
      // The token stays out of the banner and the logs: a file only this user reads.
      const dir = join(ctx.demoDir, 'permis-rdv');
      await mkdir(dir, { recursive: true });
      const tokenFile = join(dir, 'integration-token');
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      recordSimulator(ctx.demoDir, 'permis-rdv', { url: sim.url, tokenFile });
      context.services.adapters.register(permisBindingName, permisBinding({ baseUrl: sim.url, token }));
      await bindService(context.db, { serviceId: permisService, binding: { kind: 'adapter', adapter: permisBindingName, timeoutMs: 5000 }, actor: ctx.actor });
      await configureAdapter(context.db, permisAdapter, { baseUrl: sim.url, token });
      const subscription = await ensureSubscription(context, ctx.actor);
      const r = Random.for(seed, 'permis-demo-activity');
      let n = 0;
      const activity = startActivity({ name: 'permis-rdv', everyMs: 7000, enabled: ctx.activity, logger: context.logger, step: async () => {
        const what = await step(sim, token, r, n++);
        context.logger.debug({ system: 'permis-rdv', what }, 'demo activity');
      } });
      const suspended = sim.store.data.candidates[3]?.cin ?? '';
      return {
        banner: [
          `simulator at ${sim.url} (token in ${tokenFile}); candidates → persons, schools → companies; person changes pushed back (${subscription})`,
          `a suspension from the infractions register blocks a booking: curl -H "authorization: Bearer $(cat ${tokenFile})" ${sim.url}/candidates/${suspended}`,
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
  },
};
