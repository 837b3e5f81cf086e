// Structured JSON logs (pino). Never log secrets or bodies: known secret-bearing paths are redacted as a second line of defence.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const redactedPaths = [
  'password',
  'token',
  'secret',
  'authorization',
  'privateKey',
  'databaseUrl',
  'redisUrl',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.privateKey',
  '*.d',
  'headers.authorization',
  'headers["tabadol-signature"]',
  'headers.cookie',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tabadol' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Removes user:password from a connection URL before it appears in any message. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
