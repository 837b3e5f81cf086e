// The infractions management system in the demo (adapters/demo/systems.ts): its SOAP simulator beside the hub, its
// REST face bound as MA/GOV/METLE/infractions/tickets, its adapter configured (tickets and the points register pulled
// into the vehicles and persons referentials), two push subscriptions (vehicle owners, person identities), and gentle
// activity: an agent's ticket every few seconds to one of the exam candidates' CINs (the permis-rdv demo's persons, so
// a licence emptied of points blocks a booking there), now and then a speed camera's ticket, a payment, points given
// back to a suspended licence, and a vehicle sold (the registration authority's change of owner, through the hub).
import type { PluginContext } from '../../src/plugins.ts';
import type { DemoSystemContext, RunningDemoSystem } from '../demo/demo-system.ts';

import { bindService } from '../../src/exchange/bindings.ts';
import { contribute } from '../../src/golden/engine.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions, type SubscriptionInput } from '../../src/sync/subscriptions.ts';
import { person } from '../../referentials/generator/persons.ts';
import { Random } from '../../referentials/generator/random.ts';
import { startActivity } from '../demo/activity.ts';
import { recordSimulator } from '../demo/simulator-record.ts';
import { infractionsAdapter, infractionsIdentitySubscriptionInput, infractionsSubscriptionInput } from './adapter.ts';
import { infractionsBinding, infractionsBindingName, infractionsProvider, infractionsService } from './binding.ts';
import { startInfractionsSimulator, type InfractionsSimulator } from './simulator.ts';

/** The generator's seed and count of the exam candidates (adapters/permis-rdv/demo.ts): the drivers are those persons. */
export const demoDriverSeed = 15;
export const demoDrivers = 40;
/** Plates of the demo's vehicles: serial, letter (Arabic, or the Latin one used abroad), prefecture. */
const plateLetters = [['أ', 'A'], ['ب', 'B'], ['د', 'D'], ['و', 'W']] as const;
const communes = ['06.141.01.0', '04.421.01.0', '07.351.01.0', '01.511.01.0'];
const offenceCodes = ['V-20', 'V-30', 'F-01', 'C-01', 'T-01'];

function demoPlate(r: Random, index: number): string {
  const [arabic, latin] = plateLetters[index % plateLetters.length] as readonly [string, string];
  return `${10_000 + ((index * 7919) % 89_999)}-${r.chance(0.5) ? arabic : latin}-${(index % 89) + 1}`;
}

/** The subscriptions, created once and kept across starts (their target is the adapter, whatever the simulator's address). */
async function ensureSubscriptions(context: PluginContext, actor: string): Promise<string[]> {
  const existing = await listSubscriptions(context.db, { subscriber: infractionsProvider, state: 'active' });
  const ids: string[] = [];
  for (const input of [infractionsSubscriptionInput(infractionsProvider), infractionsIdentitySubscriptionInput(infractionsProvider)] as SubscriptionInput[]) {
    const found = existing.find((s) => s.referential === input.referential && s.purpose === input.purpose && s.target === input.target);
    ids.push(found?.id ?? (await createSubscription(
      { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
      { ...input, actor },
    )).id);
  }
  return ids;
}

/** One step of the system's own life; returns what happened, for the debug log. */
async function step(sim: InfractionsSimulator, context: PluginContext, r: Random, n: number): Promise<string> {
  const now = new Date();
  const issuedAt = `${now.toISOString().slice(0, 19)}+00:00`;
  const plate = demoPlate(r, r.int(0, 199));
  const kind = n % 12;
  if (kind === 5) {
    sim.store.add({ issuedAt, communeCode: r.pick(communes), plate, offenceCode: r.pick(['V-20', 'V-30']), source: 'speed-camera' });
    return `speed camera ticket for ${plate}`;
  }
  if (kind === 7) {
    const unpaid = sim.store.tickets.find((t) => t.paymentState === 'unpaid');
    if (unpaid) unpaid.paymentState = 'paid';
    return `ticket ${unpaid?.number ?? '-'} paid`;
  }
  if (kind === 9) {
    // Registration authority: a vehicle changes hands; the hub pushes the new owner to this system.
    const vehicles = context.services.referentials.module('vehicles');
    const buyer = person(demoDriverSeed, r.int(0, demoDrivers - 1));
    if (vehicles) await contribute(context.db, vehicles, { sourceSystem: 'narsa', sourceId: `demo-cg-${plate}`, attributes: { plate, category: 'car', owner: { type: 'person', cin: buyer.cin } } });
    return `vehicle ${plate} sold to ${buyer.cin}`;
  }
  if (kind === 11) {
    const suspended = [...sim.store.licences.holders.values()].find((l) => l.status === 'suspended');
    if (suspended) sim.store.licences.restore(suspended.cin, 6);
    return `points given back to ${suspended?.cin ?? '-'}`;
  }
  // An agent's ticket; one driver in three is the demo's repeat offender, whose licence runs out of points in minutes.
  const driver = person(demoDriverSeed, n % 3 === 0 ? 3 : r.int(0, demoDrivers - 1));
  sim.store.add({
    issuedAt, communeCode: r.pick(communes), plate, offenceCode: n % 3 === 0 ? 'F-01' : r.pick(offenceCodes), source: 'agent',
    driverCin: driver.cin, driverNameLatin: `${driver.firstLatin} ${driver.lastLatin}`, driverNameArabic: `${driver.first.arabic} ${driver.last.arabic}`,
  });
  return `agent ticket to ${driver.cin}`;
}

export const infractionsDemo = {
  name: 'infractions',
  subsystems: [{ id: infractionsProvider, name: 'Ministère du Transport et de la Logistique (METLE): gestion des infractions routières' }],
  async start(ctx: DemoSystemContext): Promise<RunningDemoSystem> {
    const { context } = ctx;
    const sim = await startInfractionsSimulator();
    try {
      // Each start binds this start's simulator: the binding's name is the same, its endpoint is new.
      context.services.adapters.register(infractionsBindingName, infractionsBinding({ endpoint: sim.url, timeoutMs: 4000 }));
      await bindService(context.db, { serviceId: infractionsService, binding: { kind: 'adapter', adapter: infractionsBindingName, timeoutMs: 5000 }, actor: ctx.actor });
      await configureAdapter(context.db, infractionsAdapter, { endpoint: sim.url });
      recordSimulator(ctx.demoDir, 'infractions', { url: sim.url });
      const subscriptions = await ensureSubscriptions(context, ctx.actor);
      const r = Random.for(demoDriverSeed, 'infractions-demo-activity');
      let n = 0;
      const activity = startActivity({ name: 'infractions', everyMs: 5000, enabled: ctx.activity, logger: context.logger, step: async () => {
        const what = await step(sim, context, r, n++);
        context.logger.debug({ system: 'infractions', what }, 'demo activity');
      } });
      return {
        banner: [
          `SOAP simulator at ${sim.url} (WSDL: ${sim.url}?wsdl); tickets and licence points pulled into vehicles and persons;`,
          `owner and identity changes pushed back (${subscriptions.join(', ')})${ctx.activity ? '; a ticket every 5 s (DEMO_ACTIVITY=off stops it)' : ''}`,
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
