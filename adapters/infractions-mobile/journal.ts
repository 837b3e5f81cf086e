// The app's store on the terminal: an append-only JSON-lines journal of what the agent and the hub did (a ticket
// recorded, a batch sealed, its answer), replayed at start. Each event is one line written and fsynced before the app
// goes on, so a ticket the agent saw recorded survives the terminal switching off. A crash in the middle of a write
// leaves at most a last line without its newline: that line never took effect (the app had not gone on), so it is
// cut off at open. Any other unreadable line is corruption, and the journal refuses to open rather than drop it.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}

export class Journal<E> {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
  ) {}

  /**
   * Opens (creating) the journal at `path` and returns its events in order; `read` turns a parsed line into an event
   * or throws (a line of a newer app, a hand-edited file).
   */
  static open<E>(path: string, read: (value: unknown) => E): { journal: Journal<E>; events: E[] } {
    mkdirSync(dirname(path), { recursive: true });
    const events: E[] = [];
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      const complete = bytes.lastIndexOf(0x0a) + 1;
      // A torn last line (no newline): the write that made it never returned, so nothing relied on it.
      if (complete < bytes.length) truncateSync(path, complete);
      const lines = bytes.subarray(0, complete).toString('utf8').split('\n');
      lines.pop();
      lines.forEach((line, index) => {
        try {
          events.push(read(JSON.parse(line)));
        } catch (err) {
          throw new JournalCorruptError(`${path} line ${index + 1} is unreadable (${(err as Error).message.slice(0, 120)}): the journal is kept as it is`);
        }
      });
    }
    return { journal: new Journal<E>(path, openSync(path, 'a', 0o600)), events };
  }

  /** Writes one event and returns once it is on disk. */
  append(event: E): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
