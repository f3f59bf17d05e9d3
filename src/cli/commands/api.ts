import type { Argv, CommandModule } from 'yargs';
import { runApiProcess } from '../../app/api-process.ts';
import {
  configFromArgv,
  withMetricsOption,
  withRedisOption,
  withStoreOptions,
  type MetricsArgs,
  type StoreArgs,
} from '../shared-options.ts';

export type ApiArgs = StoreArgs &
  MetricsArgs & {
    redisUrl?: string;
    httpPort?: number;
    shutdownGraceMs?: number;
    maxValidityHours?: number;
  };

/** `smsc api`: the HTTP API, its OpenAPI document, the web control panel, and HTTP callbacks. */
export const apiCommand: CommandModule<object, ApiArgs> = {
  command: 'api',
  describe: 'Run the HTTP API, the web control panel and HTTP callbacks (receipts and MO POSTed to accounts)',
  builder: (yargs: Argv<object>) =>
    withMetricsOption(withRedisOption(withStoreOptions(yargs)))
      .option('http-port', {
        type: 'number',
        describe: 'HTTP port for the API and panel; 0 = off (also HTTP_PORT; default 8080)',
        requiresArg: true,
      })
      .option('shutdown-grace-ms', { type: 'number', describe: 'Longest a SIGTERM shutdown may take', default: 10_000, requiresArg: true })
      .option('max-validity-hours', { type: 'number', describe: 'Furthest validity / schedule accepted', default: 168, requiresArg: true })
      .example('API_ADMIN_TOKEN=$(openssl rand -hex 24) $0 api', 'API and panel on :8080; the token opens management and the panel')
      .example('API_TLS_CERT=cert.pem API_TLS_KEY=key.pem $0 api --http-port 8443', 'HTTPS') as unknown as Argv<ApiArgs>,
  handler: async (argv) => {
    const config = configFromArgv(argv as Record<string, unknown>);
    await runApiProcess(config, { shutdownGraceMs: argv.shutdownGraceMs, maxValidityHours: argv.maxValidityHours });
  },
};
