// The convention document (YAML, as its parties sign it) and its parsed model.
import { z } from 'zod';
import { isId } from '../identity/ids.ts';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/, 'must be a quoted date YYYY-MM-DD or an ISO 8601 date-time')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'is not a real date');

export const subjectTypes = ['cin', 'ice', 'plate', 'vin', 'rc', 'if', 'cnss', 'person', 'company', 'vehicle'] as const;

// Every object is strict: a misspelt key (say `feilds:`) must be refused, not silently ignored, because an ignored
// `fields` would mean "all fields" while the parties believed they had limited them.
export const subjectLocationSchema = z.strictObject({
  /** What kind of identifier: a CIN, an ICE, a plate… */
  type: z.enum(subjectTypes),
  /** Where it is: a path parameter, a query parameter, or a field of the response body (dot path, arrays flattened). */
  in: z.enum(['path', 'query', 'response']),
  name: z.string().min(1),
});

export const operationSchema = z.strictObject({
  operationId: z.string().min(1),
  /** Response fields allowed (dot paths into the 2xx JSON body; arrays apply to each element). Absent: all fields. */
  fields: z.array(z.string().min(1)).min(1).optional(),
  subjects: z.array(subjectLocationSchema).default([]),
});

export const conventionSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must match [A-Za-z0-9._-]{1,128}'),
    version: z.number().int().min(1),
    provider: z.string().refine((v) => isId(v, 'subsystem'), 'must be a subsystem id INSTANCE/CLASS/CODE/SUBSYSTEM'),
    service: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a service code [A-Za-z0-9._-]{1,64}'),
    consumer: z.string().refine((v) => isId(v, 'subsystem'), 'must be a subsystem id INSTANCE/CLASS/CODE/SUBSYSTEM'),
    title: z.string().optional(),
    purposes: z
      .array(
        z.strictObject({
          code: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a lower-case code [a-z0-9-]'),
          description: z.string().min(1),
          legalBasis: z.string().min(1),
        }),
      )
      .min(1),
    operations: z.array(operationSchema).min(1),
    quota: z.strictObject({ count: z.number().int().min(1), windowSeconds: z.number().int().min(1).max(86_400) }),
    validFrom: date,
    validUntil: date,
    logBodies: z.boolean().default(false),
  })
  .strict()
  .refine((c) => Date.parse(c.validFrom) <= Date.parse(c.validUntil), { message: 'validUntil is before validFrom', path: ['validUntil'] });

export type Convention = z.infer<typeof conventionSchema>;
export type ConventionOperation = z.infer<typeof operationSchema>;
export type SubjectLocation = z.infer<typeof subjectLocationSchema>;

/** Whether an instant falls within the convention's validity; a date-only validUntil includes that whole day (UTC). */
export function isValidAt(convention: Pick<Convention, 'validFrom' | 'validUntil'>, at: Date): boolean {
  const from = Date.parse(convention.validFrom);
  const until = /^\d{4}-\d{2}-\d{2}$/.test(convention.validUntil) ? Date.parse(convention.validUntil) + 86_400_000 - 1 : Date.parse(convention.validUntil);
  return at.getTime() >= from && at.getTime() <= until;
}
