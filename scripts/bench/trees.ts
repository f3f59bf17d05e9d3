/**
 * The code a benchmark runs: this working tree, or another commit checked out as a git worktree
 * (`--baseline REF`), so that two versions are measured side by side in one run on one machine.
 * Each tree runs its own way: `bin/smsc.mjs` for every smsc process (compiled where the tree has a
 * build, through tsx where it predates it), and its own MongoDB stand-in.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, buildState } from '../../bin/build.mjs';

export interface Tree {
  /** `current` or `baseline <sha>`. */
  label: string;
  root: string;
  /** node arguments that run `smsc <args>` from this tree. */
  smsc(args: readonly string[]): string[];
  /** node arguments that run this tree's MongoDB stand-in. */
  standin(args: readonly string[]): string[];
}

export const currentRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function treeAt(root: string, label: string): Tree {
  return {
    label,
    root,
    smsc: (args) => [path.join(root, 'bin/smsc.mjs'), ...args],
    standin: (args) =>
      existsSync(path.join(root, 'dist/standin/main.js'))
        ? [path.join(root, 'dist/standin/main.js'), ...args]
        : ['--import', 'tsx', path.join(root, 'standin/main.ts'), ...args],
  };
}

/** This working tree, built first if a source changed since its last build. */
export function currentTree(): Tree {
  if (buildState().state !== 'fresh') build();
  return treeAt(currentRoot, 'current');
}

export interface BaselineOptions {
  /** 'link' (default): node_modules is a link to this tree's; 'ci': `npm ci` in the worktree. */
  install: 'link' | 'ci';
  log: (line: string) => void;
}

/**
 * REF checked out (detached) in a git worktree under the system temp directory, reused when it is
 * already there, and built when its package.json has a `build` script. `remove()` takes it away.
 */
export function baselineTree(ref: string, options: BaselineOptions): Tree & { remove(): void } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: currentRoot, encoding: 'utf8' }).trim();
  const sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  const root = path.join(os.tmpdir(), `smsc-baseline-${sha.slice(0, 12)}`);
  if (!existsSync(path.join(root, 'package.json'))) {
    options.log(`baseline: git worktree add ${root} ${sha.slice(0, 12)}`);
    git('worktree', 'add', '--force', '--detach', root, sha);
  }
  if (!existsSync(path.join(root, 'node_modules'))) {
    if (options.install === 'ci') {
      options.log('baseline: npm ci');
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
    } else {
      symlinkSync(path.join(currentRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    }
  }
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (pkg.scripts?.build) {
    options.log('baseline: npm run build');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  }
  return {
    ...treeAt(root, `baseline ${sha.slice(0, 12)}`),
    remove: () => {
      options.log(`baseline: git worktree remove ${root}`);
      git('worktree', 'remove', '--force', root);
    },
  };
}
