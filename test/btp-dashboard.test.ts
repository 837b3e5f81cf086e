// The BTP platform's dashboard (issue 16 item 4): the counts of its review workflow, computed from the dossiers and
// requests it holds, moved by its workflow, and served through the exchange under the steering unit's convention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classes, companies, workflowStates } from '../adapters/btp-qualification/data.ts';
import { BtpStore } from '../adapters/btp-qualification/store.ts';
import { BtpWorkflow, type Dashboard } from '../adapters/btp-qualification/workflow.ts';
import { provider, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';

const setups = [
  { name: 'PGlite', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

/** The dashboard's counts by `PROCEDURE ETAT` and request type, without the time they were taken. */
function countsOf(d: Dashboard): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of d.procedures) for (const e of p.etats) out[`${p.procedure} ${e.etat}`] = e.nombre;
  for (const r of d.demandes) out[r.type] = r.nombre;
  return out;
}

/** The same counts taken independently, straight from the store's dossiers and the workflow's requests. */
function expectedCounts(store: BtpStore, workflow: BtpWorkflow): Record<string, number> {
  const out: Record<string, number> = { AFFECTATION: 0, REEXAMEN: 0, CHANGEMENT_STATUT: 0, SANCTION: 0, DECLASSEMENT: 0 };
  for (const procedure of ['EXAMEN', 'REEXAMEN', 'VERIFICATION_ANNUELLE']) {
    for (const etat of ['EN_ATTENTE_SIGNATURE', 'EN_ATTENTE_NOTIFICATION_DECISION', 'EN_ATTENTE_EXAMEN_CN', 'EN_ATTENTE_INSTRUCTION_SP']) out[`${procedure} ${etat}`] = 0;
  }
  for (const { profile } of store.all()) {
    const { procedure, etat } = profile.statutDossier;
    if (etat === 'DECISION_NOTIFIEE') continue;
    const key = etat === 'EN_ATTENTE_AFFECTATION' ? (procedure === 'REEXAMEN' ? 'REEXAMEN' : 'AFFECTATION') : `${procedure} ${etat}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  for (const r of workflow.requests()) out[r.kind] = (out[r.kind] ?? 0) + 1;
  return out;
}

describe('the BTP platform\'s review workflow and dashboard', () => {
  it('lists the talk\'s stages and requests with its labels, counted from the data held', () => {
    const store = new BtpStore();
    const workflow = new BtpWorkflow(store);
    const d = workflow.dashboard();
    expect(d.procedures.map((p) => p.procedure)).toEqual(['EXAMEN', 'REEXAMEN', 'VERIFICATION_ANNUELLE']);
    expect(d.procedures[0]?.etats.map((e) => e.libelle)).toEqual(['En attente de signature', 'En attente de notification de décision', "En attente d'examen par CN", "En attente d'instruction par le SP"]);
    expect(d.demandes.map((r) => r.libelle)).toEqual(["Demandes en attente d'affectation", 'Réexamen', 'Demande de changement de statut', 'Demande de Sanction', 'Demande de déclassement']);
    expect(countsOf(d)).toEqual(expectedCounts(store, workflow));
    // The requests pending at start are the talk's screen: one re-examination, four sanctions.
    expect(workflow.requests().map((r) => r.kind).sort()).toEqual(['REEXAMEN', 'SANCTION', 'SANCTION', 'SANCTION', 'SANCTION']);
    // Every dossier under review is counted once (the decided ones are not on the screen).
    const total = Object.entries(countsOf(d)).filter(([k]) => k.includes(' ') || k === 'AFFECTATION').reduce((s, [, n]) => s + n, 0);
    expect(total).toBe(companies.filter((c) => c.profile.statutDossier.etat !== 'DECISION_NOTIFIEE' && !(c.profile.statutDossier.procedure === 'REEXAMEN' && c.profile.statutDossier.etat === 'EN_ATTENTE_AFFECTATION')).length);
  });

  it('moves dossiers and requests as the staff work, and the counts follow', () => {
    const store = new BtpStore();
    const workflow = new BtpWorkflow(store);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const before = store.all().map((r) => `${r.profile.ice} ${r.profile.statutDossier.procedure} ${r.profile.statutDossier.etat} ${r.classification.statut}`).join('\n');
      const requestsBefore = workflow.requests().length;
      const event = workflow.step();
      expect(event, `step ${i}`).toBeDefined();
      if (!event) continue;
      seen.add(event.kind);
      const after = store.all().map((r) => `${r.profile.ice} ${r.profile.statutDossier.procedure} ${r.profile.statutDossier.etat} ${r.classification.statut}`).join('\n');
      // Each step changed something the dashboard reads: a dossier's state, or the pending requests.
      expect(after !== before || workflow.requests().length !== requestsBefore, `step ${i} (${event.kind}) changed nothing`).toBe(true);
      if (event.kind === 'advanced') expect(store.get(event.ice)?.profile.statutDossier).toMatchObject({ etat: event.to, libelle: workflowStates[event.to] });
      expect(countsOf(workflow.dashboard())).toEqual(expectedCounts(store, workflow));
    }
    expect([...seen].sort()).toEqual(['advanced', 'filed-dossier', 'filed-request', 'processed-request']);
  });

  it('applies the requests it deals with: a sanction suspends the certificate, a downgrade lowers a class', () => {
    const store = new BtpStore();
    const workflow = new BtpWorkflow(store);
    const effects: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const next = workflow.requests()[0];
      const held = next ? store.get(next.ice) : undefined;
      const classesBefore = held?.classification.qualifications.map((q) => q.classe) ?? [];
      const event = workflow.step();
      if (event?.kind !== 'processed-request' || !held) continue;
      const after = store.get(event.ice)?.classification;
      if (event.request === 'SANCTION') expect(after?.statut).toBe('SUSPENDUE');
      if (event.request === 'REEXAMEN') expect(store.get(event.ice)?.profile.statutDossier).toMatchObject({ procedure: 'REEXAMEN', etat: 'EN_ATTENTE_INSTRUCTION_SP' });
      if (event.request === 'DECLASSEMENT') {
        // One sector's class one step smaller (5 stays 5): never a larger class.
        const classesAfter = after?.qualifications.map((q) => q.classe) ?? [];
        classesAfter.forEach((c, k) => expect(classes.indexOf(c)).toBeGreaterThanOrEqual(classes.indexOf(classesBefore[k] ?? 'S')));
      }
      effects[event.request] = (effects[event.request] ?? 0) + 1;
    }
    expect(effects.SANCTION).toBeGreaterThan(0);
    expect(effects.REEXAMEN).toBeGreaterThan(0);
    // Deterministic from its seed: a second platform does the same work.
    const again = new BtpWorkflow(new BtpStore());
    const replay: string[] = [];
    for (let i = 0; i < 50; i++) replay.push(JSON.stringify(again.step()));
    const third = new BtpWorkflow(new BtpStore());
    expect(Array.from({ length: 50 }, () => JSON.stringify(third.step()))).toEqual(replay);
  });
});

describe.each(setups)('the dashboard through the exchange on $name', (setup) => {
  let world!: ExchangeWorld;
  const consumer = 'MA/GOV/METLE/pilotage';
  const purpose = 'e-service-steering';

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('answers the steering unit the counts the platform holds, and refuses a consumer without the convention', async () => {
    const pilotage = await world.registerConsumer(consumer);
    await world.addConvention({
      provider, service: 'classification', consumer,
      purposes: [{ code: purpose, description: 'follow the review workflow', legalBasis: 'test' }],
      operations: [{ operationId: 'getDashboard' }],
    });
    const target = `/x/v1/${provider}/classification/dashboard`;
    const first = await world.send(await world.sign(pilotage.identity, { method: 'GET', target, purpose }));
    expect(first.status, first.text).toBe(200);
    expect(countsOf(JSON.parse(first.text) as Dashboard)).toEqual(countsOf(world.simulator.workflow.dashboard()));

    // The staff work; the next call shows the counts moved.
    let moved = false;
    for (let i = 0; i < 20 && !moved; i++) {
      const before = JSON.stringify(countsOf(world.simulator.workflow.dashboard()));
      world.simulator.workflow.step();
      moved = JSON.stringify(countsOf(world.simulator.workflow.dashboard())) !== before;
    }
    expect(moved).toBe(true);
    const second = await world.send(await world.sign(pilotage.identity, { method: 'GET', target, purpose }));
    expect(second.status, second.text).toBe(200);
    expect(countsOf(JSON.parse(second.text) as Dashboard)).toEqual(countsOf(world.simulator.workflow.dashboard()));
    expect(countsOf(JSON.parse(second.text) as Dashboard)).not.toEqual(countsOf(JSON.parse(first.text) as Dashboard));

    // The public procurement portal's convention allows the certificate only.
    const refused = await world.send(await world.sign(world.mef.identity, { method: 'GET', target, purpose: 'public-procurement-eligibility' }));
    expect(refused.status).toBe(403);
  });
});
