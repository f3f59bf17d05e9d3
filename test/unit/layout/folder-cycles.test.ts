import { describe, expect, it } from 'vitest';
import { describeCycles, folderCycles, folderGraph, layerOf } from '../../../scripts/check-folder-cycles.mjs';

const mod = (source: string, ...resolved: string[]) => ({ source, dependencies: resolved.map((r) => ({ resolved: r })) });

describe('check-folder-cycles', () => {
  it('collapses files to their top-level src/ folder', () => {
    expect(layerOf('src/store/group-commit.ts')).toBe('src/store');
    expect(layerOf('src/api/routes/message-routes.ts')).toBe('src/api');
    expect(layerOf('src/main.ts')).toBe('src/main.ts');
    expect(layerOf('node_modules/mongodb/lib/index.js')).toBeUndefined();
    expect(layerOf('test/unit/x.test.ts')).toBeUndefined();
  });

  it('finds no cycle when the folders form layers, whatever imports inside one folder or to packages', () => {
    const graph = folderGraph({
      modules: [
        mod('src/store/a.ts', 'src/domain/x.ts', 'src/store/b.ts', 'node_modules/mongodb/lib/index.js'),
        mod('src/store/b.ts', 'src/store/a.ts'),
        mod('src/protocol/c.ts', 'src/store/a.ts', 'src/domain/x.ts'),
        mod('src/domain/x.ts'),
      ],
    });
    expect(folderCycles(graph)).toEqual([]);
  });

  it('reports a loop through sub-folders and several folders, with one example import per edge', () => {
    const graph = folderGraph({
      modules: [
        mod('src/receipts/emitter.ts', 'src/callbacks/accounts.ts'),
        mod('src/callbacks/service.ts', 'src/delivery/round.ts'),
        mod('src/callbacks/accounts.ts'),
        mod('src/delivery/round.ts', 'src/receipts/sub/writer.ts'),
        mod('src/delivery/other.ts', 'src/receipts/emitter.ts'),
        mod('src/store/a.ts', 'src/domain/x.ts'),
      ],
    });
    const cycles = folderCycles(graph);
    expect(cycles).toEqual([['src/callbacks', 'src/delivery', 'src/receipts']]);
    const lines = describeCycles(graph, cycles);
    expect(lines[0]).toBe('folder cycle (3 folders): src/callbacks src/delivery src/receipts');
    // The first import seen stands for its edge.
    expect(lines).toContain('  src/delivery -> src/receipts   e.g. src/delivery/round.ts -> src/receipts/sub/writer.ts');
    expect(lines).toHaveLength(4);
  });
});
