import { readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Counter } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { registry } from '../metrics/metrics.ts';

export const cdrUploadsTotal = new Counter({
  name: 'smsc_cdr_uploads_total',
  help: 'CDR files uploaded to object storage, by result (ok | error)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export interface S3Target {
  bucket: string;
  /** Key prefix (e.g. `cdr/`). */
  prefix: string;
  /** An S3-compatible endpoint (path-style addressing then); unset: AWS S3. */
  endpoint?: string;
  region: string;
  /** Attempts per request inside the SDK (default 3); a failed file is tried again on a later pass anyway. */
  maxAttempts?: number;
}

/**
 * Uploads closed CDR files with the AWS SDK v3 and deletes each local file only once the store
 * has confirmed it: PutObject succeeded and a HeadObject of the key reports the same length.
 * Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY, profile, role).
 */
export class CdrUploader {
  readonly #target: S3Target;
  readonly #client: S3Client;
  readonly #log: Logger;

  constructor(target: S3Target, logger: Logger) {
    this.#target = target;
    this.#log = logger;
    this.#client = new S3Client({
      region: target.region,
      maxAttempts: target.maxAttempts ?? 3,
      ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
    });
  }

  keyOf(file: string): string {
    return `${this.#target.prefix}${path.basename(file)}`;
  }

  /** Uploads one file; resolves true once it is confirmed and deleted, false when it failed (it stays, for the next try). */
  async upload(file: string): Promise<boolean> {
    const key = this.keyOf(file);
    try {
      const body = await readFile(file);
      await this.#client.send(new PutObjectCommand({ Bucket: this.#target.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#target.bucket, Key: key }));
      if (head.ContentLength !== body.length) throw new Error(`the store holds ${head.ContentLength} bytes for ${key}, not ${body.length}`);
      await unlink(file);
      cdrUploadsTotal.inc({ result: 'ok' });
      this.#log.info({ key, bytes: body.length }, 'CDR file uploaded');
      return true;
    } catch (error) {
      cdrUploadsTotal.inc({ result: 'error' });
      this.#log.warn({ key, err: (error as Error).message }, 'CDR upload failed; the file stays and is tried again');
      return false;
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
