// Runs a regional office standalone, as a process working in its folder on an intermittent link:
//   tsx adapters/regional-office/main.ts --root DIR --territory 01 [--period-seconds 60] [--online-seconds 20] [--tick-seconds 5]
// Each tick, when the link is up, it applies the hub's change files from DIR/inbox/<referential>/ and drops its pending
// corrections into DIR/outbox/. It stops on SIGINT or SIGTERM after the tick in progress.
import { parseArgs } from 'node:util';
import { regionalOffice } from './office.ts';
import { RegionalOfficeSimulator } from './simulator.ts';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    territory: { type: 'string', default: '01' },
    'period-seconds': { type: 'string', default: '60' },
    'online-seconds': { type: 'string', default: '20' },
    'tick-seconds': { type: 'string', default: '5' },
  },
});

const seconds = (name: 'period-seconds' | 'online-seconds' | 'tick-seconds'): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name}: ${values[name]} is not a positive number of seconds`);
    process.exit(2);
  }
  return n * 1000;
};

if (!values.root) {
  console.error('--root: the office folder is required');
  process.exit(2);
}
let office;
try {
  office = regionalOffice(values.territory ?? '01');
} catch (err) {
  console.error(`--territory: ${(err as Error).message}`);
  process.exit(2);
}
const simulator = await new RegionalOfficeSimulator(office, values.root, { periodMs: seconds('period-seconds'), onlineMs: seconds('online-seconds') }).init();
console.log(`regional office ${office.id} working in ${values.root}`);

let stopping = false;
let running: Promise<void> = Promise.resolve();
const timer = setInterval(() => {
  running = running.then(async () => {
    if (stopping) return;
    try {
      const tick = await simulator.tick();
      for (const a of tick.applied) console.log(`applied ${a.referential}/${a.file} (${a.changes} change(s))`);
      for (const w of tick.written) console.log(`dropped ${w}`);
    } catch (err) {
      // The office keeps working: a bad change file is reported and tried again next tick.
      console.error(`tick failed: ${(err as Error).message}`);
    }
  });
}, seconds('tick-seconds'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopping = true;
    clearInterval(timer);
    void running.then(() => process.exit(0));
  });
}
