/** Deep copy of plain documents, arrays and Dates; other BSON values are immutable and shared. */
export function cloneValue<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if ((v as { _bsontype?: string })._bsontype !== undefined) return v;
  if (v instanceof Uint8Array || v instanceof RegExp) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as object)) out[k] = cloneValue((v as Record<string, unknown>)[k]);
  return out as T;
}
