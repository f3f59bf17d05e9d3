import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/smpp/index.ts';

// README "SMPP status codes returned" against the code: every status the SMSC answers with is
// listed with its value, and every listed status is one the code uses.

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/** Code that does not answer SMPP requests: the table definition, the downstream simulator, and the connector (client) side. */
const NOT_ANSWERING = ['src/smpp/command-status.ts', 'src/sink/', 'src/connectors/'];
/** Named in answering code, but never sent: the client side of a session maps a resp without a status to it. */
const NEVER_SENT = new Set(['ESME_RUNKNOWNERR']);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

function statusesInCode(): Set<string> {
  const used = new Set<string>();
  for (const file of sourceFiles('src')) {
    if (NOT_ANSWERING.some((skip) => file.startsWith(skip))) continue;
    for (const m of readFileSync(path.join(repoRoot, file), 'utf8').matchAll(/CommandStatus\.(ESME_[A-Z_]+)/g)) {
      if (!NEVER_SENT.has(m[1])) used.add(m[1]);
    }
  }
  return used;
}

function statusesInReadme(): Map<string, string | undefined> {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## SMPP status codes returned\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const listed = new Map<string, string | undefined>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split('|')[1];
    for (const m of first.matchAll(/`(ESME_[A-Z_]+)`(?:\s*\((0x[0-9A-Fa-f]+)\))?/g)) listed.set(m[1], m[2]);
  }
  return listed;
}

describe('README SMPP status table', () => {
  const listed = statusesInReadme();

  it('lists every status the code answers with', () => {
    expect(listed.size).toBeGreaterThan(30);
    const missing = [...statusesInCode()].filter((name) => !listed.has(name)).sort();
    expect(missing, 'statuses the code returns that the README does not list').toEqual([]);
  });

  it('lists only statuses the code uses, each with its value', () => {
    const used = statusesInCode();
    for (const [name, hex] of listed) {
      expect(name in CommandStatus, `${name} is no CommandStatus name`).toBe(true);
      // ESME_ROK is what a response carries unless the code names an error.
      if (name !== 'ESME_ROK') expect(used.has(name), `${name} is listed but the code never answers with it`).toBe(true);
      expect(hex, `${name} needs its value in the README`).toBeDefined();
      expect(Number.parseInt(hex!, 16), `${name} value`).toBe(CommandStatus[name as keyof typeof CommandStatus]);
    }
  });
});
