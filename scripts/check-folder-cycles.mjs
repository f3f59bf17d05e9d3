#!/usr/bin/env node
// Fails when two top-level folders of src/ import each other through any path (a folder cycle).
//
// dependency-cruiser's own `no-circular` works on modules, and its `scope: 'folder'` rules
// aggregate to the folder a target file sits in (src/api/routes, not src/api), so a loop that
// enters a folder through one sub-folder and leaves through another goes unseen. This script
// reads dependency-cruiser's JSON (every import, type-only ones included), collapses each file
// to its layer (`src/<folder>`, or the file itself for one at the top of src/), and reports every
// strongly connected component of that graph with one example import per edge.
//
// Usage: depcruise src --config .dependency-cruiser.cjs --output-type json | node scripts/check-folder-cycles.mjs
//        node scripts/check-folder-cycles.mjs cruise-result.json
import { readFileSync } from 'node:fs';

/** `src/store/group-commit.ts` -> `src/store`; `src/clock.ts` -> `src/clock.ts`; outside src/ -> undefined. */
export function layerOf(path) {
  const match = /^src\/[^/]+/.exec(path);
  return match ? match[0] : undefined;
}

/** Folder graph: Map<from, Map<to, example {from, to}>> over the src/ layers of a cruise result. */
export function folderGraph(cruiseResult) {
  const graph = new Map();
  for (const module of cruiseResult.modules ?? []) {
    const from = layerOf(module.source);
    if (!from) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    for (const dependency of module.dependencies ?? []) {
      const to = layerOf(dependency.resolved ?? '');
      if (!to || to === from) continue;
      const edges = graph.get(from);
      if (!edges.has(to)) edges.set(to, { from: module.source, to: dependency.resolved });
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan), each sorted by name. */
export function folderCycles(graph) {
  const nodes = new Set(graph.keys());
  for (const edges of graph.values()) for (const to of edges.keys()) nodes.add(to);
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...nodes].sort()) if (!index.has(node)) visit(node);
  return components;
}

/** The report lines for the cycles found: each component, then one example import per edge inside it. */
export function describeCycles(graph, components) {
  const lines = [];
  for (const component of components) {
    const members = new Set(component);
    lines.push(`folder cycle (${component.length} folders): ${component.join(' ')}`);
    for (const from of component) {
      for (const [to, example] of graph.get(from) ?? []) {
        if (members.has(to)) lines.push(`  ${from} -> ${to}   e.g. ${example.from} -> ${example.to}`);
      }
    }
  }
  return lines;
}

function main() {
  const file = process.argv[2];
  const text = readFileSync(file ?? 0, 'utf8');
  const graph = folderGraph(JSON.parse(text));
  const components = folderCycles(graph);
  if (components.length === 0) {
    console.log(`no folder cycles among the ${graph.size} src/ layers`);
    return;
  }
  for (const line of describeCycles(graph, components)) console.error(line);
  console.error(
    `x ${components.length} folder cycle(s) in src/: a lower layer imports a higher one (README "Code layout" lists the layers)`,
  );
  process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
