// Vehicles module: a plate in any written form to one key, VIN check digit a warning only, owners, every field at fault named.

import { describe, expect, it } from 'vitest';
import { makeIce } from '../identifiers/index.ts';
import { vehiclesModule } from './module.ts';

const valid = {
  plate: '12345-أ-6', vin: '1M8GDM9AXKP042788', category: 'VP', make: 'dacia', model: 'Logan', firstRegistration: '2015-03-01',
  owner: { type: 'person', cin: 'ab123456' },
};

describe('vehicles: normalise', () => {
  it('accepts a valid record', () => {
    const result = vehiclesModule.normalise(valid);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.attributes).toMatchObject({ plateKey: '12345|A|6', plateType: 'standard', category: 'car', make: 'DACIA', owner: { type: 'person', cin: 'AB123456' } });
    expect(result.warnings).toEqual([]);
  });

  it('gives one key for every written form of a plate', () => {
    const keys = ['12345-أ-6', '12345 | أ | 6', '12345-A-6', '12345 A 6'].map((plate) => {
      const result = vehiclesModule.normalise({ plate });
      return result.ok ? vehiclesModule.naturalKeys(result.attributes)[0]?.value : undefined;
    });
    expect(new Set(keys)).toEqual(new Set(['12345|A|6']));
  });

  it('reports a VIN check-digit mismatch as a warning, never a refusal', () => {
    const result = vehiclesModule.normalise({ ...valid, vin: '1M8GDM9A1KP042788' });
    expect(result.ok).toBe(true);
    expect(result.ok ? result.warnings.join(' ') : '').toMatch(/check digit/);
  });

  it('names every field at fault at once', () => {
    const result = vehiclesModule.normalise({
      plate: '12345-أ-95', vin: 'ABC', category: 'spaceship', firstRegistration: '2999-01-01', owner: { type: 'company', ice: '001234567000001' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.location).sort()).toEqual(['body.category', 'body.firstRegistration', 'body.owner.ice', 'body.plate', 'body.vin']);
  });

  it('accepts a company owner and needs a plate or a VIN', () => {
    const owned = vehiclesModule.normalise({ vin: valid.vin, owner: { type: 'company', ice: makeIce('001234567') } });
    expect(owned.ok && owned.attributes.owner?.type).toBe('company');
    const none = vehiclesModule.normalise({ make: 'Dacia' });
    expect(none.ok ? [] : none.problems.map((p) => p.location)).toEqual(['body.plate']);
  });

  it('keys on plate key and VIN', () => {
    const result = vehiclesModule.normalise(valid);
    if (!result.ok) throw new Error('expected valid');
    expect(vehiclesModule.naturalKeys(result.attributes)).toEqual([{ type: 'plate', value: '12345|A|6' }, { type: 'vin', value: '1M8GDM9AXKP042788' }]);
    expect(vehiclesModule.score).toBeUndefined();
  });
});
