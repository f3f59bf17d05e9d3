import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { CSV_HEADER, recordIdOfLine } from './cdr-record.ts';

export interface CdrFileOptions {
  dir: string;
  format: 'jsonl' | 'csv';
  rotateBytes: number;
  rotateSeconds: number;
  /** Part of every file name, so journals on several hosts never collide in the bucket. */
  node: string;
  clock: Clock;
  logger: Logger;
}

/** The file being written ends in `.open`; a closed one is compressed to `.gz`; a `.tmp` is a compression cut short. */
const OPEN = '.open';
const CLOSED = '.gz';
const TMP = '.tmp';

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The journal's files in `dir`: lines are appended to one open file and made durable (fdatasync)
 * before the caller marks their messages as journaled; the file is closed by size or age,
 * compressed (`<name>.jsonl.gz`, written as `.tmp`, synced, renamed) and the plain file removed.
 * A crash at any point leaves either the open file or the compressed one, never neither.
 */
export class CdrFileWriter {
  readonly #o: CdrFileOptions;
  #handle: FileHandle | undefined;
  #file: string | undefined;
  #size = 0;
  #openedAt = 0;

  constructor(options: CdrFileOptions) {
    this.#o = options;
  }

  get dir(): string {
    return this.#o.dir;
  }

  /**
   * After a crash: every record id in the files still here — the open one (a torn last line is
   * cut off first, then it is compressed) and the closed ones waiting for upload (a batch may
   * have closed files before its marks were written). The caller marks the ids as journaled, so
   * they are not written again. Call once, before the first append.
   */
  async recover(): Promise<string[]> {
    await mkdir(this.#o.dir, { recursive: true });
    const names = await readdir(this.#o.dir);
    for (const name of names.filter((n) => n.endsWith(TMP))) await unlink(path.join(this.#o.dir, name));
    const ids: string[] = [];
    const collect = (text: string) => {
      for (const line of text.split('\n')) {
        const id = line ? recordIdOfLine(line, this.#o.format) : undefined;
        if (id) ids.push(id);
      }
    };
    for (const name of names.filter((n) => n.endsWith(CLOSED))) {
      try {
        collect(gunzipSync(await readFile(path.join(this.#o.dir, name))).toString('utf8'));
      } catch (error) {
        this.#o.logger.warn(
          { file: name, err: (error as Error).message },
          'a closed CDR file could not be read back; it is uploaded as it is',
        );
      }
    }
    for (const name of names.filter((n) => n.endsWith(OPEN))) {
      const file = path.join(this.#o.dir, name);
      const gz = file.slice(0, -OPEN.length) + CLOSED;
      if (names.includes(path.basename(gz))) {
        // Compressed and renamed before the crash; only the removal of the plain file was left.
        await unlink(file);
        continue;
      }
      const text = await readFile(file, 'utf8');
      const whole = text.lastIndexOf('\n') + 1;
      if (whole < text.length) await truncate(file, Buffer.byteLength(text.slice(0, whole)));
      collect(text.slice(0, whole));
      if (whole === 0) await unlink(file);
      else await this.#compress(file);
    }
    return ids;
  }

  /**
   * Appends whole lines and waits until they are on disk. A file that reaches `rotateBytes` is
   * closed between two lines and the rest goes to a new one.
   */
  async append(lines: readonly string[]): Promise<void> {
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      if (!this.#handle) await this.#open();
      await this.#handle!.write(Buffer.concat(chunk));
      await this.#handle!.datasync();
      this.#size += chunkBytes;
      chunk = [];
      chunkBytes = 0;
    };
    for (const line of lines) {
      const bytes = Buffer.from(line);
      if (!this.#handle) await this.#open();
      if (chunkBytes > 0 && this.#size + chunkBytes + bytes.length > this.#o.rotateBytes) {
        await flush();
        await this.rotate();
      }
      chunk.push(bytes);
      chunkBytes += bytes.length;
    }
    await flush();
  }

  /** Closes the open file when it is due by size or age; true when it did. */
  async rotateIfDue(): Promise<boolean> {
    if (!this.#handle) return false;
    const age = this.#o.clock.now().getTime() - this.#openedAt;
    if (this.#size < this.#o.rotateBytes && age < this.#o.rotateSeconds * 1000) return false;
    await this.rotate();
    return true;
  }

  /** Closes and compresses the open file (if any). */
  async rotate(): Promise<void> {
    const handle = this.#handle;
    const file = this.#file;
    if (!handle || !file) return;
    this.#handle = undefined;
    this.#file = undefined;
    await handle.close();
    await this.#compress(file);
  }

  /** Compressed files waiting for upload, oldest first. */
  async closedFiles(): Promise<string[]> {
    const names = await readdir(this.#o.dir).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith(CLOSED))
      .sort()
      .map((n) => path.join(this.#o.dir, n));
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  async #open(): Promise<void> {
    const now = this.#o.clock.now();
    const name = `cdr-${stamp(now)}-${this.#o.node}-${randomBytes(3).toString('hex')}.${this.#o.format}${OPEN}`;
    this.#file = path.join(this.#o.dir, name);
    this.#handle = await open(this.#file, 'a');
    this.#openedAt = now.getTime();
    this.#size = 0;
    if (this.#o.format === 'csv') {
      await this.#handle.write(CSV_HEADER);
      this.#size = CSV_HEADER.length;
    }
    await fsyncPath(this.#o.dir);
  }

  async #compress(file: string): Promise<void> {
    const gz = file.slice(0, -OPEN.length) + CLOSED;
    const tmp = gz + TMP;
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp));
    await fsyncPath(tmp);
    await rename(tmp, gz);
    await fsyncPath(this.#o.dir);
    await unlink(file);
    this.#o.logger.info({ file: path.basename(gz), bytes: (await stat(gz)).size }, 'CDR file closed');
  }
}
