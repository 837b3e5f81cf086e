// The one way a test waits for something to happen: poll an observable until it holds, never sleep and then assert.

export interface WaitOptions {
  /** Bounds a wait that would otherwise hang; never a claim about how fast anything is (default 20 s). */
  timeoutMs?: number;
  /** How often to look again (default 50 ms). */
  everyMs?: number;
}

/**
 * Polls `probe` until it holds: until it returns anything but `false` without throwing. The probe is either a boolean
 * observable (`async () => (await count()) === 10`) or a check made of expect() calls (`() => expect(seen).toEqual([1])`).
 * Resolves with what the probe returned last. On the timeout, the error names what was awaited and the probe's last
 * failure (an expect() message says what was seen instead).
 */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, options: WaitOptions = {}): Promise<Exclude<T, false>> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const everyMs = options.everyMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const result = await probe();
      if (result !== false) return result as Exclude<T, false>;
    } catch (err) {
      failure = err;
    }
    if (Date.now() > deadline) {
      const last = failure === undefined ? 'it was still false' : `last: ${failure instanceof Error ? failure.message : String(failure)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`, failure === undefined ? undefined : { cause: failure });
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
