// `rollway convert -f FILE|DIR`: reads the manifests (a directory: every .yaml, .yml and .json file
// under it, in name order), prints the converted ones on standard output and the report on
// standard error. Exit code 1 when something could not be carried over.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { convertText, toYamlText, type ConvertNote } from './convert.ts';

export interface ConvertRun {
  output: string;
  report: string[];
  code: number;
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** The manifest files of a path: the file itself, or those under a directory. */
export function manifestFiles(path: string): string[] {
  if (path === '-' || !statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => MANIFEST.test(f))
    .map((f) => join(path, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

export function formatNote(file: string, n: ConvertNote): string {
  const where = [n.document > 0 ? `document ${n.document}` : '', n.object, n.path].filter(Boolean).join(': ');
  return `${file}: ${where}: ${n.severity === 'warning' ? 'warning: ' : ''}${n.message} (fix: ${n.fix})`;
}

export function convertPath(path: string, format: 'yaml' | 'json'): ConvertRun {
  const files = manifestFiles(path);
  if (files.length === 0) throw new Error(`${path} holds no .yaml, .yml or .json file`);
  const report: string[] = [];
  const yaml: string[] = [];
  const items: unknown[] = [];
  let errors = 0;
  let warnings = 0;
  let converted = 0;
  for (const file of files) {
    const result = convertText(readFileSync(file === '-' ? 0 : file, 'utf8'));
    converted += result.converted;
    for (const note of result.notes) {
      report.push(formatNote(file, note));
      if (note.severity === 'error') errors++;
      else warnings++;
    }
    if (result.documents.length === 0) continue;
    yaml.push(`${files.length > 1 ? `# source: ${file}\n` : ''}${toYamlText(result.documents)}`);
    for (const doc of result.documents) items.push(...objectsOf(doc.toJS({ maxAliasCount: 100 }) as unknown));
  }
  report.push(`${converted} object${converted === 1 ? '' : 's'} converted from ${files.length} file${files.length === 1 ? '' : 's'}; ${errors} not carried over or refused by lint, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  const output = format === 'json' ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n` : yaml.join('---\n');
  return { output, report, code: errors > 0 ? 1 : 0 };
}

/** The objects of a document for the JSON List: a List's items, or the document itself. */
function objectsOf(value: unknown): unknown[] {
  if (value === null || typeof value !== 'object') return [];
  const list = value as { kind?: unknown; items?: unknown };
  if (typeof list.kind === 'string' && list.kind.endsWith('List') && Array.isArray(list.items)) return list.items;
  return [value];
}
