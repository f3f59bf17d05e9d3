// Types for scripts/check-folder-cycles.mjs (imported by its unit test).
export interface CruiseResultLike {
  modules?: { source: string; dependencies?: { resolved?: string }[] }[];
}
export interface ExampleImport {
  from: string;
  to: string;
}
export type FolderGraph = Map<string, Map<string, ExampleImport>>;
export function layerOf(path: string): string | undefined;
export function folderGraph(cruiseResult: CruiseResultLike): FolderGraph;
export function folderCycles(graph: FolderGraph): string[][];
export function describeCycles(graph: FolderGraph, components: string[][]): string[];
