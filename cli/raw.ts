// Reading parsed YAML of any shape without throwing: lint looks at files that may hold anything.
export type Raw = Record<string, unknown>;

export const isRecord = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** The value at a path of mappings, or undefined where a step is missing or not a mapping. */
export const field = (v: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((at, k) => (isRecord(at) ? at[k] : undefined), v);
/** The mappings of a list (other entries skipped); [] for anything but a list. */
export const records = (v: unknown): Raw[] => (Array.isArray(v) ? v.filter(isRecord) : []);
export const namespaceOf = (o: Raw): string => str(field(o, 'metadata', 'namespace')) ?? '';
