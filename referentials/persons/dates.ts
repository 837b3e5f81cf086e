// Birth dates compared by level: the same date, day and month swapped, one slip apart, or different.

export type BirthDateLevel = 'exact' | 'swap' | 'typo' | 'disagree';

/**
 * `swap`: day and month exchanged (1980-04-11 / 1980-11-04: a form read the other way round); `typo`: one digit
 * different, or the day one off in the same month (a keyboard slip, a birth registered around midnight). Both are
 * doubtful: the score sends them to review, never links them (invariant 6).
 */
export function compareBirthDates(x: string, y: string): BirthDateLevel {
  if (x === y) return 'exact';
  if (x.length !== 10 || y.length !== 10) return 'disagree';
  const [yx, mx, dx] = [x.slice(0, 4), x.slice(5, 7), x.slice(8, 10)];
  const [yy, my, dy] = [y.slice(0, 4), y.slice(5, 7), y.slice(8, 10)];
  if (yx === yy && mx === dy && dx === my) return 'swap';
  let differing = 0;
  for (let i = 0; i < 10; i++) if (x[i] !== y[i]) differing++;
  if (differing === 1) return 'typo';
  if (yx === yy && mx === my && Math.abs(Number(dx) - Number(dy)) === 1) return 'typo';
  return 'disagree';
}
