// Refusals of console input, decided before any SQL: the field at fault and why, shown as a 400 page.
export class ConsoleInputError extends Error {
  override name = 'ConsoleInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
