import { describe, expect, it } from 'vitest';
import { COMMANDS, commandsFor } from '../../../src/cli/index.ts';

describe('the lazy command registry', () => {
  it('names each command as its module does', async () => {
    for (const entry of COMMANDS) {
      const module = await entry.load();
      expect(String(module.command).split(' ')[0]).toBe(entry.name);
      expect(module.describe).toBeTruthy();
    }
  });

  it('loads only the named command, none for a bare --version, all for help or an unknown command', async () => {
    expect((await commandsFor(['sms-info', '--text', 'hi'])).map((c) => c.command)).toEqual(['sms-info']);
    expect((await commandsFor(['status', '--help'])).map((c) => c.command)).toEqual(['status']);
    expect(await commandsFor(['--version'])).toEqual([]);
    expect(await commandsFor(['--help'])).toHaveLength(COMMANDS.length);
    expect(await commandsFor(['--version', '--help'])).toHaveLength(COMMANDS.length);
    expect(await commandsFor(['no-such-command'])).toHaveLength(COMMANDS.length);
  });
});
