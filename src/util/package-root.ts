import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding smsc's package.json. The same module runs from `src/util/` (tests,
 * scripts through tsx) and from `dist/src/util/` (the compiled build), so it is found by walking
 * up rather than by a fixed number of `..`.
 */
export const packageRoot: string = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * The compiled JavaScript of an entry point, by its source path without extension
 * (`standin/main` -> `<root>/dist/standin/main.js`). Processes are always spawned from the build,
 * whether the parent runs compiled or from sources, so what is started is what ships.
 */
export function compiledEntry(sourcePath: string): string {
  return path.join(packageRoot, 'dist', `${sourcePath}.js`);
}
