// A refusal of an exchange at one of the protocol's checks: becomes a signed, logged problem+json answer.
import type { ProblemCode, ProblemFieldError } from '../http/problem.ts';

export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors: ProblemFieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${detail}`);
  }
}
