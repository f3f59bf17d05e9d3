#!/usr/bin/env node
// The compiled build: TypeScript under src/, workers/ and standin/ is transpiled once into dist/
// (tsc --noCheck: `npm run typecheck` is the type check), and processes run that JavaScript.
//
//   node bin/build.mjs             build (npm run build; npm install runs it as `prepare`)
//   node bin/build.mjs --if-stale  build only when a source is newer than the last build (npm start)
//
// Plain JavaScript, so it runs before anything is compiled. bin/smsc.mjs uses buildState() to
// refuse to run without a build and to warn when the sources changed after it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(root, 'dist', '.build-stamp');
/** What the build reads: a change to any of these makes the build stale. */
const SOURCE_DIRS = ['src', 'workers', 'standin', 'types'];
/**
 * Not built (tsconfig.build.json excludes them): the stand-in package's tests and tools, and any
 * node_modules of its own. Changing them leaves the build fresh, and nothing of theirs is copied.
 */
const NOT_BUILT = new Set(['standin/test', 'standin/scripts', 'standin/node_modules'].map((dir) => path.join(root, dir)));
/** Files the program reads at run time next to its modules (the control panel's page, style and script): copied as they are. */
const ASSET = /\.(html|css|js|svg|png|ico|json)$/;
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/**
 * 'fresh', 'missing' (never built), or 'stale' with the first source found newer than the build.
 * Without sources (an installed package that ships only dist/) a build is fresh by definition.
 */
export function buildState() {
  let stampMs;
  try {
    stampMs = statSync(STAMP).mtimeMs;
  } catch {
    return { state: 'missing' };
  }
  for (const file of SOURCE_FILES) {
    const full = path.join(root, file);
    if (existsSync(full) && statSync(full).mtimeMs > stampMs) return { state: 'stale', newer: file };
  }
  for (const dir of SOURCE_DIRS) {
    const newer = newerIn(path.join(root, dir), stampMs);
    if (newer) return { state: 'stale', newer: path.relative(root, newer) };
  }
  return { state: 'fresh' };
}

function newerIn(dir, stampMs) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && NOT_BUILT.has(full)) continue;
    if (entry.isDirectory()) {
      const newer = newerIn(full, stampMs);
      if (newer) return newer;
    } else if ((entry.name.endsWith('.ts') || ASSET.test(entry.name)) && statSync(full).mtimeMs > stampMs) {
      return full;
    }
  }
  return undefined;
}

function copyAssets(from, to) {
  let entries;
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.isDirectory() && NOT_BUILT.has(path.join(from, entry.name))) continue;
    if (entry.isDirectory()) copyAssets(path.join(from, entry.name), path.join(to, entry.name));
    else if (!entry.name.endsWith('.ts') && ASSET.test(entry.name)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
    }
  }
}

/** Runs tsc over tsconfig.build.json, then stamps the build. Throws when tsc fails or is missing. */
export function build() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('TypeScript is not installed (a devDependency): run `npm install` without --omit=dev to build');
  }
  const startedAt = new Date();
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--noCheck'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`tsc exited with ${result.status ?? result.signal}`);
  for (const dir of SOURCE_DIRS) copyAssets(path.join(root, dir), path.join(root, 'dist', dir));
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `built from the sources as they were at ${startedAt.toISOString()}\n`);
  // Dated at the start of the build: a source saved while tsc ran leaves the build stale, not falsely fresh.
  utimesSync(STAMP, startedAt, startedAt);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    if (process.argv.includes('--if-stale')) {
      const { state, newer } = buildState();
      if (state !== 'fresh') {
        process.stderr.write(`smsc: ${state === 'missing' ? 'no build yet' : `${newer} changed since the last build`}; building\n`);
        build();
      }
    } else {
      build();
    }
  } catch (error) {
    process.stderr.write(`smsc build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
