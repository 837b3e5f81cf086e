// French conventions for what the console shows: dates in Morocco's time zone, numbers with French grouping.
const locale = 'fr-MA';
const timeZone = 'Africa/Casablanca';

const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'medium', timeZone });
const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone });
const hour = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone });
const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });

export const formatDateTime = (at: Date | null | undefined): string => (at ? dateTime.format(at) : '—');
export const formatDate = (at: Date | null | undefined): string => (at ? date.format(at) : '—');
export const formatHour = (at: Date): string => hour.format(at);
export const formatCount = (n: number | bigint | string): string => integer.format(typeof n === 'string' ? Number(n) : n);
export const formatDecimal = (n: number): string => decimal.format(n);

/** A duration in seconds as a French reader says it: « 3 s », « 4 min », « 2 h 05 ». */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${integer.format(Math.round(seconds))} s`;
  if (seconds < 3600) return `${integer.format(Math.round(seconds / 60))} min`;
  const h = Math.floor(seconds / 3600);
  return `${integer.format(h)} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}`;
}
