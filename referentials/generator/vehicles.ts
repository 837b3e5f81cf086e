// Generated vehicles: valid plates written in their several forms, VINs (check digit honoured or not, by maker), owners (persons or companies).

import { plateLetter, vinCheckDigit } from '../identifiers/index.ts';
import { entityId, type GeneratedEntity, pickSources, randomDate, recordsWithTruth, type SourceRecord, sourceId } from './common.ts';
import { iceFor } from './companies.ts';
import { VEHICLE_MAKERS } from './names.ts';
import { cinFor } from './persons.ts';
import { Random } from './random.ts';

export const VEHICLE_SOURCES = ['narsa', 'marroute', 'insurers', 'infractions'] as const;
const LETTERS = ['أ', 'ب', 'د', 'هـ', 'و', 'ط'] as const;
const VIN_CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
const YEAR_CODES = 'ABCDEFGHJKLMNPRSTVWXY123456789';

export interface Vehicle {
  id: string;
  serial: number;
  letter: string;
  prefecture: number;
  vin: string;
  category: 'car' | 'utility' | 'truck' | 'motorcycle';
  make: string;
  model: string;
  firstRegistration: string;
  owner: { type: 'person'; cin: string; entityId: string } | { type: 'company'; ice: string; entityId: string } | null;
}

export interface OwnerPool {
  persons: number;
  companies: number;
}

/** A VIN from a maker; makers that follow the North-American rule get a correct check digit, others a random one. */
function vinFor(r: Random, wmi: string, checkDigit: boolean): string {
  let body = wmi;
  for (let i = 0; i < 5; i++) body += r.pick([...VIN_CHARS]);
  const rest = `${r.pick([...YEAR_CODES])}${r.pick([...VIN_CHARS])}${String(r.int(0, 999_999)).padStart(6, '0')}`;
  const placeholder = `${body}0${rest}`;
  return `${body}${checkDigit ? vinCheckDigit(placeholder) : r.pick([...'0123456789X'])}${rest}`;
}

export function vehicle(seed: number, index: number, owners: OwnerPool): Vehicle {
  const r = Random.for(seed, 'vehicle', index);
  const maker = r.pickSkewed(VEHICLE_MAKERS, 1);
  // Serial, letter and prefecture by index: plates never repeat (99,999 × 6 letters × 89 prefectures).
  const serial = ((index % 99_999) * 7_919) % 99_999 + 1;
  const letter = LETTERS[Math.floor(index / 99_999) % LETTERS.length] ?? 'أ';
  const prefecture = (Math.floor(index / (99_999 * LETTERS.length)) + (seed % 89)) % 89 + 1;
  let owner: Vehicle['owner'] = null;
  if (owners.persons > 0 && (owners.companies === 0 || r.chance(0.85))) {
    const i = r.int(0, owners.persons - 1);
    owner = { type: 'person', cin: cinFor(seed, i), entityId: entityId('person', i) };
  } else if (owners.companies > 0) {
    const j = r.int(0, owners.companies - 1);
    owner = { type: 'company', ice: iceFor(seed, j), entityId: entityId('company', j) };
  }
  return {
    id: entityId('vehicle', index), serial, letter, prefecture, vin: vinFor(r, maker.wmi, maker.checkDigit),
    category: r.pickWeighted(['car', 'utility', 'truck', 'motorcycle'] as const, [80, 12, 5, 3]),
    make: maker.make, model: r.pick(maker.models), firstRegistration: randomDate(r, 1995, 2025), owner,
  };
}

/** The plate as a source writes it: Arabic letter with dashes or bars, or the Latin letter used abroad. */
function plateAsWritten(v: Vehicle, r: Random): string {
  const latin = plateLetter(v.letter)?.latin ?? 'A';
  switch (r.int(0, 3)) {
    case 0: return `${v.serial}-${v.letter}-${v.prefecture}`;
    case 1: return `${v.serial} | ${v.letter} | ${v.prefecture}`;
    case 2: return `${v.serial}-${latin}-${v.prefecture}`;
    default: return `${String(v.serial).padStart(5, '0')} ${latin} ${v.prefecture}`;
  }
}

function vehicleRecord(v: Vehicle, source: string, r: Random, key: (string | number)[]): { record: SourceRecord; variations: string[] } {
  const variations: string[] = [];
  const a: Record<string, unknown> = { plate: plateAsWritten(v, r) };
  if (source === 'narsa' || r.chance(0.5)) a.vin = r.chance(0.2) ? v.vin.toLowerCase() : v.vin;
  else variations.push('no-vin');
  a.category = v.category;
  a.make = r.chance(0.3) ? v.make.toLowerCase() : v.make;
  a.model = v.model;
  if (source === 'narsa' || r.chance(0.3)) a.firstRegistration = v.firstRegistration;
  if (v.owner !== null && (source !== 'infractions' || r.chance(0.5))) {
    a.owner = v.owner.type === 'person' ? { type: 'person', cin: v.owner.cin } : { type: 'company', ice: v.owner.ice };
  }
  return { record: { sourceSystem: source, sourceId: sourceId(source, 'vehicle', ...key), attributes: a }, variations };
}

/** Vehicle `index`: its first record (NARSA's in 60 % of cases, or more), and duplicates from any source; truth rows name the owner. */
export function generateVehicle(seed: number, index: number, dupRate: number, owners: OwnerPool): GeneratedEntity {
  const v = vehicle(seed, index, owners);
  const r = Random.for(seed, 'vehicle-records', index);
  const sources = pickSources(r, { preferred: 'narsa', share: 0.6, others: VEHICLE_SOURCES }, dupRate);
  const owner = v.owner !== null ? { ownerEntityId: v.owner.entityId } : {};
  return recordsWithTruth('vehicles', v.id, sources, (source, k) => vehicleRecord(v, source, r, [seed, index, k]), owner);
}
