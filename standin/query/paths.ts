import { isPlainObject } from '../bson-order.ts';

const splitCache = new Map<string, string[]>();

export function splitPath(path: string): string[] {
  let parts = splitCache.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (splitCache.size > 10_000) splitCache.clear();
    splitCache.set(path, parts);
  }
  return parts;
}

function isIndex(part: string): boolean {
  return part.length > 0 && part.length < 10 && /^\d+$/.test(part);
}

function collect(value: unknown, parts: string[], i: number, out: unknown[], expandArrays: boolean): void {
  if (i === parts.length) {
    out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[i];
    if (isIndex(part)) {
      const idx = Number(part);
      if (idx < value.length) collect(value[idx], parts, i + 1, out, expandArrays);
      else out.push(undefined);
    }
    if (!expandArrays) return;
    let any = false;
    for (const el of value) {
      if (isPlainObject(el)) {
        collect(el, parts, i, out, expandArrays);
        any = true;
      }
    }
    if (!any && !isIndex(part)) out.push(undefined);
    return;
  }
  if (isPlainObject(value)) {
    collect(value[parts[i]], parts, i + 1, out, expandArrays);
    return;
  }
  out.push(undefined);
}

/**
 * Every value a dotted path reaches, walking through arrays of documents as MongoDB does
 * (`undefined` stands for a missing field). Arrays at the end of the path are returned whole.
 */
export function pathValues(doc: unknown, path: string): unknown[] {
  const parts = splitPath(path);
  if (parts.length === 1) {
    return [(doc as Record<string, unknown>)[path]];
  }
  const out: unknown[] = [];
  collect(doc, parts, 0, out, true);
  return out;
}

/** The single value at a path without array traversal (numeric parts index arrays). */
export function getPath(doc: unknown, path: string): unknown {
  const parts = splitPath(path);
  let cur: unknown = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) {
      if (!isIndex(p)) return undefined;
      cur = cur[Number(p)];
    } else if (isPlainObject(cur)) {
      cur = cur[p];
    } else {
      return undefined;
    }
  }
  return cur;
}
