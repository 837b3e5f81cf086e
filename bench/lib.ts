// Small helpers shared by the benchmarks: option parsing, percentiles, medians, rounding, printed tables, children.
import type { ChildProcess } from 'node:child_process';

export function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  return value;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Stops a benchmark child: SIGTERM, then SIGKILL if it has not exited within 15 s. */
export function childStopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

/**
 * Resolves with the port a benchmark child prints as `${marker} <port>` on stdout; its other lines go to stderr,
 * prefixed with the label, so they never mix into the printed table. Rejects (and stops the child) after 120 s or
 * when the child exits first.
 */
export function awaitReadyPort(child: ChildProcess, label: string, marker: string, stop: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buffer = '';
    let ready = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${label} server did not report ready within 120 s`));
    }, 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${label} server exited before it was ready (code ${code ?? 'null'}, signal ${signal ?? 'none'})`));
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!ready && line.startsWith(`${marker} `)) {
          ready = true;
          clearTimeout(timer);
          resolve(Number(line.slice(marker.length + 1)));
        } else if (line.trim() !== '') {
          process.stderr.write(`[${label}] ${line}\n`);
        }
      }
    });
  });
}

/**
 * A bench server child's exit: on SIGTERM, SIGINT or its parent going away (the parent holds our stdin open, so its end
 * means the parent died without signalling us), close once, then exit 0, or 1 if closing failed or took over 10 s.
 */
export function exitWithParent(label: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${label}: close failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
