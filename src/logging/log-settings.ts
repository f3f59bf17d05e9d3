/**
 * How the process logs, decided once at the process edge (the CLI, from the config's `log.*`,
 * which reads LOG_LEVEL / LOG_FORMAT / --log-level) and handed in: nothing under src/logging looks
 * at the environment. Kept apart from logger.ts so that setting it loads no pino (the offline
 * tools never log).
 */
export interface LogSettings {
  /** A pino level: fatal | error | warn | info | debug | trace | silent. */
  readonly level: string;
  /** `pretty` for a person at a terminal; `json` lines for pipes and files. */
  readonly format: 'json' | 'pretty';
}

/** What a process that never configured logging gets (tests running process code in-process). */
export const DEFAULT_LOG_SETTINGS: LogSettings = Object.freeze({ level: 'info', format: 'json' });

let configured: LogSettings = DEFAULT_LOG_SETTINGS;

/**
 * The process edge calls this once, before the first logger is created, with the configured
 * settings. Called again with other settings, the loggers created after it follow them.
 */
export function configureLogging(settings: LogSettings): void {
  if (settings.level === configured.level && settings.format === configured.format) return;
  configured = Object.freeze({ level: settings.level, format: settings.format });
}

/** The settings the process edge handed in (the defaults until it has). */
export function currentLogSettings(): LogSettings {
  return configured;
}
