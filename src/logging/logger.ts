import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * How the process logs, decided once at the process edge (the CLI, from the config's `log.*`,
 * which reads LOG_LEVEL / LOG_FORMAT / --log-level) and handed in: this module never looks at the
 * environment.
 */
export interface LogSettings {
  /** A pino level: fatal | error | warn | info | debug | trace | silent. */
  readonly level: string;
  /** `pretty` for a person at a terminal; `json` lines for pipes and files. */
  readonly format: 'json' | 'pretty';
}

/** What a process that never configured logging gets (tests running process code in-process). */
const DEFAULT_SETTINGS: LogSettings = Object.freeze({ level: 'info', format: 'json' });

// Paths pino blanks out wherever they appear, so a secret passed in a log object never
// reaches the output even when a caller forgets.
const REDACTED_PATHS = ['password', '*.password', 'secret', '*.secret', 'authorization', '*.authorization'];

/** The root logger these settings describe, writing to stderr. */
export function createRootLogger(settings: LogSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return settings.format === 'pretty'
    ? pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2 } } })
    : pino(options, pino.destination({ fd: 2, sync: false }));
}

let root: { settings: LogSettings; logger: Logger } | undefined;

/**
 * The process edge calls this once, before the first `createLogger`, with the configured
 * settings. Calling it again with other settings makes a new root for the loggers created after.
 */
export function configureLogging(settings: LogSettings): void {
  if (root && root.settings.level === settings.level && root.settings.format === settings.format) return;
  root = { settings: { level: settings.level, format: settings.format }, logger: createRootLogger(settings) };
}

function rootLogger(): Logger {
  root ??= { settings: DEFAULT_SETTINGS, logger: createRootLogger(DEFAULT_SETTINGS) };
  return root.logger;
}

/** A child logger per component (and per session, by calling `.child()` again). */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}

/** For tests and libraries that must stay quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
