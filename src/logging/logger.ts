import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

// Paths pino blanks out wherever they appear, so a secret passed in a log object never
// reaches the output even when a caller forgets.
const REDACTED_PATHS = ['password', '*.password', 'secret', '*.secret', 'authorization', '*.authorization'];

let root: Logger | undefined;

function rootLogger(): Logger {
  if (root) return root;
  const options: LoggerOptions = {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  // Pretty output only for a person at a terminal; pipes and files get JSON lines.
  const pretty = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json' && !process.env.VITEST;
  root = pretty
    ? pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2 } } })
    : pino(options, pino.destination({ fd: 2, sync: false }));
  return root;
}

/** A child logger per component (and per session, by calling `.child()` again). */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}

/** For tests and libraries that must stay quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
