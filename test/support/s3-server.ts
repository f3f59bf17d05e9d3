import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

// s3rver (an npm package implementing the S3 API on the local disk) as the object store in tests.
// Its default credentials; the SDK in the code under test reads them from the environment.
export const S3_CREDENTIALS = Object.freeze({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });

export interface TestS3 {
  endpoint: string;
  port: number;
  client: S3Client;
  /** Keys under `prefix`, sorted. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The object's bytes. */
  get(bucket: string, key: string): Promise<Buffer>;
  /** Every line of every (gzipped) object under `prefix`. */
  lines(bucket: string, prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts s3rver on `port` (0 = any) with `buckets` created. */
export async function startS3(buckets: string[], port = 0): Promise<TestS3> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'smsc-s3-'));
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) });
  const address = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const keys = async (bucket: string, prefix = '') =>
    ((await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
  const get = async (bucket: string, key: string) =>
    Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  return {
    endpoint,
    port: address.port,
    client,
    keys,
    get,
    async lines(bucket, prefix = '') {
      const out: string[] = [];
      for (const key of await keys(bucket, prefix)) {
        const body = await get(bucket, key);
        out.push(
          ...gunzipSync(body)
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
      }
      return out;
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
