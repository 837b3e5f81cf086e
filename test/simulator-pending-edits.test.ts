// A local edit the hub has not pulled yet survives a golden change pushed meanwhile (the complaints platform, the BTP
// platform and the maritime public-domain service). Without it, a push caused by another system (a ticket re-sending the licence holder's old name)
// overwrote an agent's correction before the next pull, which then listed the complainant unchanged: the correction
// never reached the hub (the demo:sync end-to-end failure of 2026-12-05, decisions §29).
import { describe, expect, it } from 'vitest';
import { ComplaintsStore } from '../adapters/reclamations/store.ts';
import { BtpStore } from '../adapters/btp-qualification/store.ts';
import { DpmStore } from '../adapters/dpm-occupations/store.ts';

const later = () => new Date(Date.now() + 1000).toISOString();

describe('the complaints platform keeps an agent\'s correction until the hub has taken it in', () => {
  const setup = () => {
    const store = new ComplaintsStore({ seed: 29, persons: 30, companies: 5 });
    const person = store.data.complainants.find((c) => c.kind === 'person' && c.cin);
    if (!person || person.kind !== 'person' || !person.cin) throw new Error('no person with a CIN');
    // The hub has pulled everything: the seeded complainants are its.
    const all = store.complainantsSince(0, 100_000);
    store.complainantsSince(all.cursor, 100_000);
    return { store, person: person as typeof person & { cin: string }, taken: all.cursor };
  };

  it('keeps the names over a golden change made after the correction but before the pull, and applies the next once pulled', () => {
    const { store, person, taken } = setup();
    store.correctName(person.id, { lastNameLatin: 'Corrigé' });
    // A golden change made after the correction, without it (another system's update): taken (the platform records
    // the golden version it has seen) but the agent's names stay.
    expect(store.applyPersonChange({ cin: person.cin, goldenId: 'g', version: 2, at: later(), lastNameLatin: 'Ancien' })).toBe(true);
    expect(store.fromHubFor(person.cin)).toEqual({ goldenId: 'g', version: 2 });
    expect(store.complainant(person.id)).toMatchObject({ lastNameLatin: 'Corrigé' });
    // The hub pulls: the correction is listed, with its name.
    const page = store.complainantsSince(taken, 100_000);
    expect(page.items.find((i) => i.item.id === person.id)?.item).toMatchObject({ lastNameLatin: 'Corrigé' });
    // The hub asks from the page's cursor (it has taken the correction in): its next golden change applies.
    store.complainantsSince(page.cursor, 100_000);
    expect(store.applyPersonChange({ cin: person.cin, goldenId: 'g', version: 3, at: later(), lastNameLatin: 'Corrigé Encore' })).toBe(true);
    expect(store.complainant(person.id)).toMatchObject({ lastNameLatin: 'Corrigé Encore' });
  });

  it('counts a page as taken in only when the hub asks from past it (a pull that failed reads the same page again)', () => {
    const { store, person, taken } = setup();
    store.correctName(person.id, { lastNameLatin: 'Corrigé' });
    store.complainantsSince(taken, 100_000); // served, but the hub's take-in failed: it asks from `taken` again
    store.applyPersonChange({ cin: person.cin, goldenId: 'g', version: 2, at: later(), lastNameLatin: 'Ancien' });
    expect(store.complainant(person.id)).toMatchObject({ lastNameLatin: 'Corrigé' });
  });

  it('takes a cursor of an earlier start (past this start\'s sequence) as no acknowledgement', () => {
    const store = new ComplaintsStore({ seed: 29, persons: 30, companies: 5 });
    const person = store.data.complainants.find((c) => c.kind === 'person' && c.cin);
    if (!person || person.kind !== 'person' || !person.cin) throw new Error('no person with a CIN');
    store.correctName(person.id, { lastNameLatin: 'Corrigé' });
    store.complainantsSince(10_000_000, 10);
    store.applyPersonChange({ cin: person.cin, goldenId: 'g', version: 2, at: later(), lastNameLatin: 'Ancien' });
    expect(store.complainant(person.id)).toMatchObject({ lastNameLatin: 'Corrigé' });
  });
});

describe('the BTP platform keeps a staff edit until the hub has taken it in', () => {
  it('keeps its edit over a golden change made after the edit but before the pull, and applies the next once pulled', () => {
    const store = new BtpStore();
    const ice = store.all()[0]?.profile.ice;
    if (!ice) throw new Error('no company');
    const everything = store.changesSince(0, 100_000);
    store.changesSince(everything.cursor, 100_000);
    store.edit(ice, { raisonSociale: 'Nouvelle Raison SARL' });
    const change = (version: number, nameFr: string) => ({ goldenId: 'g', version, at: later(), attributes: { ice, nameFr } });
    expect(store.applyFromHub(change(2, 'Ancienne Raison SARL'))).toBe('kept-local');
    expect(store.applyFromHub(change(2, 'Ancienne Raison SARL'))).toBe('stale');
    expect(store.get(ice)?.profile.raisonSociale).toBe('Nouvelle Raison SARL');
    const page = store.changesSince(everything.cursor, 100_000);
    expect(page.items.map((i) => i.profile.raisonSociale)).toContain('Nouvelle Raison SARL');
    store.changesSince(page.cursor, 100_000);
    expect(store.applyFromHub(change(3, 'Nouvelle Raison SARL Maroc'))).toBe('applied');
    expect(store.get(ice)?.profile.raisonSociale).toBe('Nouvelle Raison SARL Maroc');
  });
});

describe('the maritime public-domain service keeps a counter correction until the hub has taken it in', () => {
  it('keeps the names over a golden change made before the pull, still applies its status, and applies the next names once pulled', () => {
    const store = new DpmStore({ seed: 29 });
    const everything = store.holdersSince(0, 100_000);
    store.holdersSince(everything.cursor, 100_000);
    const person = everything.items.map((i) => i.holder).find((h) => h.kind === 'person' && h.cin);
    if (!person || person.kind !== 'person' || !person.cin) throw new Error('no person holder with a CIN');
    store.editHolder(person.ref, (h) => {
      if (h.kind === 'person') h.nomLatin = 'Corrigé';
    });
    const change = (version: number, lastNameLatin: string, status = 'active') => ({ referential: 'persons' as const, goldenId: 'g', version, attributes: { cin: person.cin, lastNameLatin, status } });
    expect(store.applyFromHub(change(2, 'Ancien', 'deceased'))).toBe('applied');
    expect(store.holder(person.ref)).toMatchObject({ nomLatin: 'Corrigé', decede: true });
    const page = store.holdersSince(everything.cursor, 100_000);
    expect(page.items.find((i) => i.holder.ref === person.ref)?.holder).toMatchObject({ nomLatin: 'Corrigé' });
    store.holdersSince(page.cursor, 100_000);
    expect(store.applyFromHub(change(3, 'Corrigé Encore'))).toBe('applied');
    expect(store.holder(person.ref)).toMatchObject({ nomLatin: 'Corrigé Encore', decede: false });
  });
});
