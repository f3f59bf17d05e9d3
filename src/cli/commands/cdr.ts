import { createWriteStream } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { exportToDir, exportToStream, parseCdrTime } from '../../cdr/cdr-export.ts';
import { ensureCdrSchema } from '../../cdr/cdr-journal.ts';
import { cdrRecordOptions, cdrUploader, runCdrJournalProcess } from '../../app/cdr-process.ts';
import { ConfigError } from '../../domain/errors.ts';
import { createLogger } from '../../logging/logger.ts';
import { withConfigFlags } from '../config-flags.ts';
import {
  configFromArgv,
  stdoutPrinter,
  withMetricsOption,
  withStore,
  withStoreOptions,
  type MetricsArgs,
  type Printer,
  type StoreArgs,
} from '../shared-options.ts';
import { createMetrics } from '../../metrics/metrics.ts';

export interface CdrArgs extends StoreArgs, MetricsArgs {
  action: 'journal' | 'export';
  since?: string;
  until?: string;
  out?: string;
}

export interface CdrCommandDeps {
  print?: Printer;
  env?: Readonly<Record<string, string | undefined>>;
  now?: Date;
}

/** `smsc cdr export` without yargs, for tests: returns what it wrote. */
export async function runCdrExport(
  argv: CdrArgs,
  deps: CdrCommandDeps = {},
): Promise<{ records: number; file?: string; key?: string; uploaded?: boolean }> {
  const print = deps.print ?? stdoutPrinter;
  const config = configFromArgv(argv as unknown as Record<string, unknown>, deps.env);
  const now = deps.now ?? new Date();
  if (!argv.since) throw new ConfigError('cdr export needs --since.');
  const since = parseCdrTime(argv.since, now, '--since');
  const until = argv.until ? parseCdrTime(argv.until, now, '--until') : now;
  if (until <= since) throw new ConfigError('--until must be after --since.');
  const options = { since, until, format: config.cdr.format, record: cdrRecordOptions(config) };
  return withStore(config, 'smsc-cdr-export', async (db) => {
    await ensureCdrSchema(db);
    if (argv.out === '-') return { records: await exportToStream(db, options, process.stdout) };
    if (argv.out) {
      const records = await exportToStream(db, options, createWriteStream(argv.out));
      print(`exported ${records} records (${since.toISOString()} to ${until.toISOString()}) to ${argv.out}`);
      return { records, file: argv.out };
    }
    if (!config.cdr.dir)
      throw new ConfigError('cdr export needs --out FILE, or cdr.dir (CDR_DIR or --cdr-dir) to write into and upload from.');
    const { file, records } = await exportToDir(db, options, config.cdr.dir);
    // A one-shot command serves no /metrics: its upload is counted on a set of its own.
    const uploader = cdrUploader(config, createLogger('cdr'), createMetrics());
    if (!uploader) {
      print(
        `exported ${records} records (${since.toISOString()} to ${until.toISOString()}) to ${file} (no upload: cdr.s3.bucket is not set)`,
      );
      return { records, file };
    }
    try {
      const key = uploader.keyOf(file);
      const uploaded = await uploader.upload(file);
      if (!uploaded)
        throw new ConfigError(
          `exported ${records} records to ${file}, but the upload failed; the journal uploads it later (or run the export again).`,
        );
      print(`exported ${records} records (${since.toISOString()} to ${until.toISOString()}) to s3://${config.cdr.s3.bucket}/${key}`);
      return { records, file, key, uploaded };
    } finally {
      uploader.close();
    }
  });
}

/** `smsc cdr journal | export --since TIME [--until TIME]`. */
export const cdrCommand: CommandModule<object, CdrArgs> = {
  command: 'cdr <action>',
  describe: 'CDR journal: run it (journal), or re-export a time range (export --since … [--until …])',
  builder: (yargs: Argv<object>) =>
    (withConfigFlags(withMetricsOption(withStoreOptions(yargs)), ['cdr.'], 'CDR journal:') as Argv<object>)
      .positional('action', {
        choices: ['journal', 'export'] as const,
        describe: 'journal: write, rotate and upload CDRs until stopped; export: one range, now',
        demandOption: true,
      })
      .option('since', {
        type: 'string',
        describe: 'export: from this time (ISO 8601, epoch ms, or a duration ago: 24h, 7d)',
        requiresArg: true,
      })
      .option('until', { type: 'string', describe: 'export: up to (not including) this time; default now', requiresArg: true })
      .option('out', {
        type: 'string',
        describe: 'export: write this file (plain; - for stdout) instead of a compressed file in cdr.dir that is uploaded',
        requiresArg: true,
      })
      .example(
        'CDR_DIR=/var/lib/smsc/cdr CDR_S3_BUCKET=cdrs $0 cdr journal',
        'journal final outcomes, upload closed files to s3://cdrs/cdr/',
      )
      .example(
        '$0 cdr export --since 2026-03-01 --until 2026-03-02 --cdr-dir /tmp/cdr --cdr-s3-bucket cdrs',
        're-export one day to the bucket',
      )
      .example('$0 cdr export --since 1h --out - --cdr-format csv', 'the last hour as CSV on stdout') as unknown as Argv<CdrArgs>,
  handler: async (argv) => {
    if (argv.action === 'journal') {
      await runCdrJournalProcess(configFromArgv(argv as unknown as Record<string, unknown>));
      return;
    }
    await runCdrExport(argv);
  },
};
