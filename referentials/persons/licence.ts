// A person's `licence` attribute group (issue 15): the driving licence's points and state as the infractions system's
// points register reports them. One attribute, so that survivorship keeps status, points and date together.
import { dateProblem, type FieldReader } from './fields.ts';
import { LICENCE_MAX_POINTS, LICENCE_STATUSES, type PersonLicence } from './attributes.ts';

/** Reads `licence` ({ status, points, suspendedAt }); a problem names the field at fault. */
export function readLicence(r: FieldReader): PersonLicence | undefined {
  if (r.raw('licence') === undefined) return undefined;
  const raw = r.raw('licence');
  if (typeof raw !== 'object' || Array.isArray(raw)) return r.fail('licence', 'a licence is { status, points, suspendedAt? }');
  const status = r.oneOf('licence.status', LICENCE_STATUSES);
  if (status === undefined && r.raw('licence.status') === undefined) r.fail('licence.status', `is required: one of ${LICENCE_STATUSES.join(', ')}`);
  const points = r.raw('licence.points');
  if (typeof points !== 'number' || !Number.isInteger(points) || points < 0 || points > LICENCE_MAX_POINTS) {
    return r.fail('licence.points', `must be a whole number from 0 to ${LICENCE_MAX_POINTS}`);
  }
  const suspendedAt = r.text('licence.suspendedAt', 40);
  if (suspendedAt !== undefined) {
    const problem = dateProblem(suspendedAt, { past: true, min: '1950-01-01' });
    if (problem) return r.fail('licence.suspendedAt', problem);
    if (status !== 'suspended') return r.fail('licence.suspendedAt', 'is given only with status suspended');
  }
  if (status === 'suspended' && suspendedAt === undefined) return r.fail('licence.suspendedAt', 'is required when the licence is suspended');
  if (status === undefined) return undefined;
  return { status, points, ...(suspendedAt ? { suspendedAt } : {}) };
}
