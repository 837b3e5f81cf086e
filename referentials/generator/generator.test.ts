// The generator: deterministic by seed, valid records, duplicates with their ground truth, ownership links, files on disk.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isValidIce } from '../identifiers/index.ts';
import { companiesModule, personsModule, vehiclesModule } from '../index.ts';
import { rcNumberFor } from './companies.ts';
import { generateInMemory, generateToDirectory } from './generate.ts';
import { generatePerson, person } from './persons.ts';
import { sourceId } from './common.ts';
import { hashSeed } from './random.ts';
import { familyNameTable } from './family-names.ts';
import { LAST_NAMES } from './names.ts';
import { arabicSkeleton, latinSkeleton } from '../persons/blocking.ts';

const options = { seed: 42, dupRate: 0.1, persons: 2000, companies: 300, vehicles: 500 };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('generator', () => {
  const first = generateInMemory(options);

  it('is deterministic by seed', () => {
    const again = generateInMemory(options);
    expect(JSON.stringify(again.records)).toBe(JSON.stringify(first.records));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(first.truth));
    const other = generateInMemory({ ...options, seed: 43 });
    expect(JSON.stringify(other.records.persons.slice(0, 10))).not.toBe(JSON.stringify(first.records.persons.slice(0, 10)));
  });

  it('writes a ground-truth row for every record, duplicates included', () => {
    const all = [...first.records.persons, ...first.records.companies, ...first.records.vehicles];
    const truth = new Map(first.truth.map((t) => [`${t.sourceSystem}|${t.sourceId}`, t]));
    expect(truth.size).toBe(all.length);
    for (const r of all) expect(truth.has(`${r.sourceSystem}|${r.sourceId}`)).toBe(true);
    const dupEntities = new Set(first.truth.filter((t) => t.duplicate).map((t) => t.entityId));
    const share = dupEntities.size / (options.persons + options.companies + options.vehicles);
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
    // A duplicate comes from another source than its entity's other records.
    const sourcesOf = new Map<string, string[]>();
    for (const t of first.truth) sourcesOf.set(t.entityId, [...(sourcesOf.get(t.entityId) ?? []), t.sourceSystem]);
    for (const sources of sourcesOf.values()) expect(new Set(sources).size).toBe(sources.length);
  });

  it('produces records every module accepts, with valid ICEs and distinct CINs per person', () => {
    for (const [module, records] of [[personsModule, first.records.persons], [companiesModule, first.records.companies], [vehiclesModule, first.records.vehicles]] as const) {
      for (const r of records) {
        const result = (module.normalise as (x: unknown) => { ok: boolean; problems?: unknown })(r.attributes);
        expect(result.ok, `${r.sourceSystem} ${JSON.stringify(r.attributes)} ${JSON.stringify(result.problems)}`).toBe(true);
      }
    }
    for (const c of first.records.companies) if (c.attributes.ice !== undefined) expect(isValidIce(c.attributes.ice)).toBe(true);
    const cinOwner = new Map<string, string>();
    const entityOf = new Map(first.truth.map((t) => [`${t.sourceSystem}|${t.sourceId}`, t.entityId]));
    for (const p of first.records.persons) {
      const normalised = personsModule.normalise(p.attributes);
      const key = normalised.ok ? personsModule.naturalKeys(normalised.attributes)[0]?.value : undefined;
      if (key === undefined) continue;
      const entity = entityOf.get(`${p.sourceSystem}|${p.sourceId}`) ?? '';
      expect(cinOwner.get(key) ?? entity).toBe(entity);
      cinOwner.set(key, entity);
    }
  });

  it('never writes a death date before the birth date, twins and namesakes included (they take another birth date)', () => {
    // Seed 1's twins at these indexes drew a death (1991 to 2005) before the birth date they take from their sibling: the
    // 1M import rejected 19 such records. Plus every person of a range, through their records as the import reads them.
    const indexes = [71850, 111971, 117528, 172979, 217715, 227078, 228713, 277063, 286251, ...Array.from({ length: 3000 }, (_, i) => i)];
    let dead = 0;
    for (const index of indexes) {
      const p = person(1, index);
      if (p.deathDate !== null) {
        dead++;
        expect(p.deathDate > p.birthDate, `person ${index} (${p.relation ?? 'own'}): born ${p.birthDate}, died ${p.deathDate}`).toBe(true);
      }
      for (const r of generatePerson(1, index, 0.5).records) {
        const result = personsModule.normalise(r.attributes);
        expect(result.ok, `person ${index}: ${JSON.stringify(r.attributes)}`).toBe(true);
      }
    }
    expect(dead).toBeGreaterThan(30);
  });

  it('gives every company a register number of its own (RC is a natural key)', () => {
    const numbers = Array.from({ length: 300_000 }, (_, i) => rcNumberFor(1, i));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.every((n) => /^[1-9]\d{0,5}$/.test(n))).toBe(true);
  });

  it('writes spelling variants, missing CINs, Arabic-only and Latin-only records', () => {
    const variations = new Set(first.truth.flatMap((t) => t.variations));
    for (const v of ['spelling', 'no-cin', 'arabic-only', 'latin-only']) expect(variations).toContain(v);
  });

  it('links vehicles to owners that exist: a generated person\'s CIN or company\'s ICE', () => {
    const personEntity = new Map<string, string>();
    const entityOf = new Map(first.truth.map((t) => [`${t.sourceSystem}|${t.sourceId}`, t.entityId]));
    for (const p of first.records.persons) if (typeof p.attributes.cin === 'string' && !/\s/.test(p.attributes.cin)) personEntity.set(p.attributes.cin, entityOf.get(`${p.sourceSystem}|${p.sourceId}`) ?? '');
    const truthOf = new Map(first.truth.map((t) => [`${t.sourceSystem}|${t.sourceId}`, t]));
    let checked = 0;
    for (const v of first.records.vehicles) {
      const owner = v.attributes.owner as { type: string; cin?: string } | undefined;
      const truth = truthOf.get(`${v.sourceSystem}|${v.sourceId}`);
      if (owner?.type !== 'person' || owner.cin === undefined || !personEntity.has(owner.cin)) continue;
      expect(personEntity.get(owner.cin)).toBe(truth?.ownerEntityId);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('streams the same data to NDJSON files, and CSV on request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabadol-gen-'));
    dirs.push(dir);
    const small = { ...options, persons: 200, companies: 20, vehicles: 30 };
    const summary = await generateToDirectory(small, dir);
    const lines = readFileSync(join(dir, 'persons.ndjson'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(summary.persons.records);
    expect(JSON.parse(lines[0] ?? '{}')).toEqual(generateInMemory(small).records.persons[0]);
    const truthLines = readFileSync(join(dir, 'ground-truth.ndjson'), 'utf8').trim().split('\n');
    expect(truthLines.length).toBe(summary.persons.records + summary.companies.records + summary.vehicles.records);
    await generateToDirectory(small, dir, 'csv');
    const csv = readFileSync(join(dir, 'vehicles.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('sourceSystem,sourceId,plate,vin,category,make,model,firstRegistration,owner.type,owner.cin,owner.ice');
    expect(csv.filter((l) => l !== '').length).toBe(summary.vehicles.records + 1);
  });
});

describe('source ids', () => {
  it('differ for two records whose 32-bit stream seeds are the same (the 1M set held one id twice)', () => {
    // Birthday search for two record keys that hashSeed maps to one 32-bit seed, as it did at a million persons.
    const seen = new Map<number, number>();
    let pair: [number, number] | undefined;
    for (let index = 0; !pair && index < 2_000_000; index++) {
      const h = hashSeed('source-id', 'infractions', 'person', 1, index, 1);
      const other = seen.get(h);
      if (other === undefined) seen.set(h, index);
      else pair = [other, index];
    }
    if (!pair) throw new Error('no two keys share a 32-bit seed in 2,000,000 tries');
    expect(sourceId('infractions', 'person', 1, pair[0], 1)).not.toBe(sourceId('infractions', 'person', 1, pair[1], 1));
    expect(sourceId('infractions', 'person', 1, pair[0], 1)).toBe(sourceId('infractions', 'person', 1, pair[0], 1));
    expect(sourceId('infractions', 'person', 1, pair[0], 1)).toMatch(/^infractions-[0-9a-f]{16}$/);
  });
});

describe('family names', () => {
  it('are the 50 listed names first, then thousands composed, each once, each with an Arabic form and Latin spellings', () => {
    const { names } = familyNameTable();
    expect(names.slice(0, LAST_NAMES.length)).toEqual(LAST_NAMES);
    expect(names.length).toBeGreaterThan(10_000);
    expect(new Set(names.map((n) => n.arabic)).size).toBe(names.length);
    for (const n of names) {
      expect(n.arabic).toMatch(/^[\u0600-\u06ff ]+$/);
      expect(n.latin.length).toBeGreaterThan(0);
      for (const l of n.latin) expect(l).toMatch(/^[A-Z][A-Za-zï' ]+$/);
    }
    // A composed name's spellings are one name in both scripts: the consonants the blocking keys share.
    let differ = 0;
    for (const n of names.slice(LAST_NAMES.length)) for (const l of n.latin) if (latinSkeleton(l) !== arabicSkeleton(n.arabic)) differ++;
    expect(differ).toBeLessThan(10);
  });
  it('are drawn as a population bears them: the commonest about 1 person in 40, thousands of names, rare chance agreement', () => {
    const counts = new Map<string, number>();
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const last = person(3, i).last.arabic;
      counts.set(last, (counts.get(last) ?? 0) + 1);
    }
    const shares = [...counts.values()].map((c) => c / n).sort((a, b) => b - a);
    expect(shares[0]).toBeGreaterThan(0.015);
    expect(shares[0]).toBeLessThan(0.035);
    expect(counts.get(LAST_NAMES[0]?.arabic ?? '')).toBe(Math.max(...counts.values()));
    expect(counts.size).toBeGreaterThan(5_000);
    // Two persons drawn at random share a family name about 0.15 % of the time (50 names alone gave 3.3 %).
    const agreement = shares.reduce((sum, s) => sum + s * s, 0);
    expect(agreement).toBeGreaterThan(0.0008);
    expect(agreement).toBeLessThan(0.003);
  });
});
