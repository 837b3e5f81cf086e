// A refusal of admin input that no service function names itself (a binding, a date): the field at fault and why.
export class AdminInputError extends Error {
  override name = 'AdminInputError';
  constructor(
    /** The field at fault, without the `body.` or `--option` prefix that the API or the CLI adds. */
    readonly location: string,
    message: string,
  ) {
    super(message);
  }
}
