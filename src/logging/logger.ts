import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentLogSettings, type LogSettings } from './log-settings.ts';

export type { Logger };
export { configureLogging, type LogSettings } from './log-settings.ts';

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

/** The root logger for the settings the process edge handed in (configureLogging), made once per settings. */
function rootLogger(): Logger {
  const settings = currentLogSettings();
  if (root?.settings !== settings) root = { settings, logger: createRootLogger(settings) };
  return root.logger;
}

/** A child logger per component (and per session, by calling `.child()` again). */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}

/** For tests and libraries that must stay quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
