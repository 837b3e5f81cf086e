// The vehicles referential: plate in any written form to one typed key, VIN (check digit a warning), category, make and model, first registration, owner.

import { parseCin, parseIce, parsePlate, parseVin, formatPlate } from '../identifiers/index.ts';
import type { NaturalKey, Normalised, ReferentialModule } from '../../src/golden/module.ts';
import { batchColumns } from '../batch-columns.ts';
import { FieldReader, identifier } from '../persons/fields.ts';

export const VEHICLE_CATEGORIES = ['car', 'utility', 'truck', 'bus', 'motorcycle', 'tractor', 'trailer'] as const;
const CATEGORY_ALIASES: Readonly<Record<string, (typeof VEHICLE_CATEGORIES)[number]>> = {
  vp: 'car', 'voiture particulière': 'car', 'voiture particuliere': 'car', vu: 'utility', 'véhicule utilitaire': 'utility',
  camion: 'truck', pl: 'truck', autocar: 'bus', autobus: 'bus', moto: 'motorcycle', motocycle: 'motorcycle', tracteur: 'tractor', remorque: 'trailer',
};

export type VehicleOwner = { type: 'person'; cin: string } | { type: 'company'; ice: string };

export interface VehicleAttributes extends Record<string, unknown> {
  /** The plate written the canonical way (Latin letter), its key and type. */
  plate?: string;
  plateKey?: string;
  plateType?: string;
  vin?: string;
  category?: (typeof VEHICLE_CATEGORIES)[number];
  make?: string;
  model?: string;
  /** YYYY-MM-DD, not in the future. */
  firstRegistration?: string;
  owner?: VehicleOwner;
}

/**
 * Survivorship: NARSA keeps the registration (carte grise); marroute (police checks) and infractions take it from there;
 * the regional offices' corrections rank below NARSA and marroute.
 */
export const VEHICLE_TRUST = {
  default: ['narsa', 'marroute', 'regional-offices', 'insurers', 'infractions'],
} as const;

export function normaliseVehicle(input: unknown): Normalised<VehicleAttributes> {
  const r = new FieldReader(input);
  const out: VehicleAttributes = {};
  const plateRaw = r.raw('plate');
  if (plateRaw !== undefined) {
    const plate = identifier(r, 'plate', parsePlate(plateRaw));
    if (plate) Object.assign(out, { plate: formatPlate(plate, 'latin'), plateKey: plate.key, plateType: plate.type });
  }
  const vinRaw = r.raw('vin');
  if (vinRaw !== undefined) {
    const vin = identifier(r, 'vin', parseVin(vinRaw));
    if (vin) out.vin = vin.value;
  }
  if (plateRaw === undefined && vinRaw === undefined) r.fail('plate', 'a vehicle needs a plate or a VIN');
  const category = r.oneOf('category', VEHICLE_CATEGORIES, CATEGORY_ALIASES);
  if (category) out.category = category;
  const make = r.text('make', 80);
  if (make) out.make = make.toUpperCase();
  const model = r.text('model', 80);
  if (model) out.model = model.toUpperCase();
  const firstRegistration = r.date('firstRegistration', { past: true, min: '1900-01-01' });
  if (firstRegistration) out.firstRegistration = firstRegistration;
  if (r.raw('owner') !== undefined) {
    const type = r.oneOf('owner.type', ['person', 'company'] as const);
    if (type === 'person') {
      const cin = identifier(r, 'owner.cin', parseCin(r.raw('owner.cin') ?? ''));
      if (cin) out.owner = { type, cin: cin.value };
    } else if (type === 'company') {
      const ice = identifier(r, 'owner.ice', parseIce(r.raw('owner.ice') ?? ''));
      if (ice) out.owner = { type, ice: ice.value };
    } else if (r.raw('owner.type') === undefined) {
      r.fail('owner.type', "an owner is { type: 'person', cin } or { type: 'company', ice }");
    }
  }
  return r.problems.length > 0 ? { ok: false, problems: r.problems } : { ok: true, attributes: out, warnings: r.warnings };
}

export function vehicleNaturalKeys(attributes: VehicleAttributes): NaturalKey[] {
  const keys: NaturalKey[] = [];
  if (attributes.plateKey) keys.push({ type: 'plate', value: attributes.plateKey });
  if (attributes.vin) keys.push({ type: 'vin', value: attributes.vin });
  return keys;
}

/** Vehicles match on identifiers only (plate key, VIN): make and model say nothing about which car it is. */
export const vehiclesModule: ReferentialModule<VehicleAttributes> = {
  name: 'vehicles',
  normalise: normaliseVehicle,
  naturalKeys: vehicleNaturalKeys,
  trust: VEHICLE_TRUST,
  batchColumns: batchColumns.vehicles,
};
