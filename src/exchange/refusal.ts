// A refusal of an exchange at one of the protocol's checks: becomes a signed, logged problem+json answer.
import { boundErrors, clipText, problemBody, problemLimits, type ProblemBody, type ProblemCode, type ProblemFieldError } from '../http/problem.ts';

/** Bounded like every problem (problemLimits): the detail is clipped and the errors cut to the first ones at once. */
export class Refusal extends Error {
  override name = 'Refusal';
  readonly detail: string;
  readonly errors: ProblemFieldError[];
  /** Errors found beyond those listed. */
  readonly errorsOmitted: number;
  constructor(
    readonly code: ProblemCode,
    detail: string,
    errors: readonly ProblemFieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    const clipped = clipText(detail, problemLimits.detailBytes);
    super(`${code}: ${clipped}`);
    this.detail = clipped;
    const bounded = boundErrors(errors);
    this.errors = bounded.errors;
    this.errorsOmitted = bounded.omitted;
  }

  /** The problem+json body; `requestId` is always written (the pipeline may fill an empty one in later). */
  toBody(requestId: string): ProblemBody {
    return problemBody(this.code, this.detail, { requestId, errors: this.errors, errorsOmitted: this.errorsOmitted });
  }
}
