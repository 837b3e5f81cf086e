// `npx tsx bench/duplicate-keys.ts`: what the duplicate-key check (check 14, src/exchange/duplicate-keys.ts) adds to
// JSON.parse on bodies of about 1 MiB (the default body limit), shaped to stress it: many small objects, one wide
// object, long escaped strings, deep nesting.
import { findDuplicateKey } from '../src/exchange/duplicate-keys.ts';

const bodies: Array<[string, string]> = [
  ['20k small objects', JSON.stringify({ items: Array.from({ length: 20000 }, (_, i) => ({ id: i, name: `n${i}`, tags: ['a', 'b'] })) })],
  ['one object, 60k keys', JSON.stringify(Object.fromEntries(Array.from({ length: 60000 }, (_, i) => [`key${i}`, i])))],
  ['escaped strings', JSON.stringify({ s: Array.from({ length: 1000 }, () => 'x\\"y'.repeat(250)) })],
  ['100k nested arrays', '['.repeat(100000) + ']'.repeat(100000)],
];
const runs = 20;
for (const [name, text] of bodies) {
  JSON.parse(text);
  findDuplicateKey(text);
  let parse = 0;
  let scan = 0;
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    JSON.parse(text);
    parse += performance.now() - t;
    t = performance.now();
    findDuplicateKey(text);
    scan += performance.now() - t;
  }
  process.stdout.write(`${name.padEnd(24)} ${(text.length / 1024).toFixed(0).padStart(5)} KiB  JSON.parse ${(parse / runs).toFixed(1).padStart(6)} ms  findDuplicateKey ${(scan / runs).toFixed(1).padStart(6)} ms\n`);
}
