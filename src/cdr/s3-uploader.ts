import { readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';

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
  readonly #log: Logger;
  readonly #metrics: Metrics;
  // The SDK is large: loaded on the first upload, so no other command pays for it at start.
  #sdk: Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | undefined;

  constructor(target: S3Target, logger: Logger, metrics: Metrics) {
    this.#target = target;
    this.#log = logger;
    this.#metrics = metrics;
  }

  #load(): Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> {
    this.#sdk ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: this.#target.region,
        maxAttempts: this.#target.maxAttempts ?? 3,
        ...(this.#target.endpoint ? { endpoint: this.#target.endpoint, forcePathStyle: true } : {}),
      }),
    }));
    return this.#sdk;
  }

  keyOf(file: string): string {
    return `${this.#target.prefix}${path.basename(file)}`;
  }

  /** Uploads one file; resolves true once it is confirmed and deleted, false when it failed (it stays, for the next try). */
  async upload(file: string): Promise<boolean> {
    const key = this.keyOf(file);
    try {
      const { client, sdk } = await this.#load();
      const { PutObjectCommand, HeadObjectCommand } = sdk;
      const body = await readFile(file);
      await client.send(new PutObjectCommand({ Bucket: this.#target.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
      const head = await client.send(new HeadObjectCommand({ Bucket: this.#target.bucket, Key: key }));
      if (head.ContentLength !== body.length) throw new Error(`the store holds ${head.ContentLength} bytes for ${key}, not ${body.length}`);
      await unlink(file);
      this.#metrics.cdrUploadsTotal.inc({ result: 'ok' });
      this.#log.info({ key, bytes: body.length }, 'CDR file uploaded');
      return true;
    } catch (error) {
      this.#metrics.cdrUploadsTotal.inc({ result: 'error' });
      this.#log.warn({ key, err: (error as Error).message }, 'CDR upload failed; the file stays and is tried again');
      return false;
    }
  }

  close(): void {
    void this.#sdk?.then(({ client }) => client.destroy());
  }
}
