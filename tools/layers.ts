// The import rules between top-level folders: each folder sits in a layer and imports only from its
// own layer or the ones below, the folder graph has no cycle, and code above the controller uses it
// through its public entry. tools/layers.test.ts applies them to the repository. Test files
// (*.test.ts) are exempt: a unit test may drive the layers above the code it checks.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Lowest first. Folders of one layer may import each other (the cycle check still applies). */
export const LAYERS: readonly (readonly string[])[] = [
  ['lib', 'crds-types'], // helpers with no project imports (safe regex, logger) and generated CRD types
  ['kube'], // Kubernetes REST client, informer, work queue, backoff, Events
  ['routers'], // traffic router plugins, their SDK and conformance suite
  ['api'], // our resources: zod schemas, validation, views, labels
  ['analysis'], // AnalysisRuns: expressions, providers, the run reconciler, rollout wiring
  ['notifications'],
  ['controller'], // the Rollout controller; owns the wiring of analysis and notifications
  ['client'], // Rollout actions, watching and view model, shared by the CLI and the dashboard
  ['dashboard'],
  ['cli'],
  ['examples', 'testing', 'e2e', 'bench', 'tools'], // harnesses: may reach into any layer below
];

/** Folders other product code may import only through these files. */
export const PUBLIC_ENTRIES: Readonly<Record<string, readonly string[]>> = {
  controller: ['controller/index.ts', 'controller/main.ts'],
};

const HARNESS = new Set(LAYERS.at(-1));
const SKIP_DIRS = new Set(['node_modules', 'artifacts', 'dist']);

export interface SourceFile {
  /** repository-relative, with forward slashes */
  path: string;
  text: string;
}

export interface Import {
  line: number;
  specifier: string;
}

/** The relative module specifiers of static imports, re-exports and dynamic import() calls. */
export function importsOf(text: string): Import[] {
  const found: Import[] = [];
  const pattern = /\b(?:import|export)\s[^;'"]*?\bfrom\s*'(\.[^']*)'|\bimport\s*\(\s*'(\.[^']*)'\s*\)|^\s*import\s+'(\.[^']*)'/gm;
  for (const m of text.matchAll(pattern)) {
    const specifier = m[1] ?? m[2] ?? m[3]!;
    const at = m.index + m[0].indexOf(specifier);
    found.push({ line: text.slice(0, at).split('\n').length, specifier });
  }
  return found;
}

const folderOf = (file: string): string => file.split('/')[0]!;
const layerOf = (folder: string): number => LAYERS.findIndex((layer) => layer.includes(folder));

/** Every problem found, one line each (`file:line ...`); an empty list means the rules hold. */
export function checkLayers(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  const edges = new Map<string, Map<string, string>>(); // from folder -> to folder -> first file:line
  for (const file of files) {
    if (file.path.endsWith('.test.ts') || !file.path.includes('/')) continue;
    const from = folderOf(file.path);
    if (layerOf(from) < 0) {
      problems.push(`${file.path}: folder ${from}/ is in no layer; add it to LAYERS in tools/layers.ts`);
      continue;
    }
    for (const { line, specifier } of importsOf(file.text)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), specifier));
      const to = folderOf(target);
      if (to === from || target.startsWith('..') || !target.includes('/')) continue;
      const where = `${file.path}:${line}`;
      problems.push(...importProblems(where, from, to, target, specifier));
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, where);
    }
  }
  return [...problems, ...cycleProblems(edges)];
}

function importProblems(where: string, from: string, to: string, target: string, specifier: string): string[] {
  const toLayer = layerOf(to);
  if (toLayer < 0) return [`${where} imports '${specifier}': folder ${to}/ is in no layer; add it to LAYERS in tools/layers.ts`];
  if (toLayer > layerOf(from)) return [`${where} imports '${specifier}': ${from}/ may not import ${to}/, a layer above it (move what both need down, see tools/layers.ts)`];
  const entries = PUBLIC_ENTRIES[to];
  if (entries && !HARNESS.has(from) && !entries.includes(target)) {
    return [`${where} imports '${specifier}': ${to}/ is used from other folders only through ${entries.join(' or ')}`];
  }
  return [];
}

/** Folder cycles (depth-first search; one message per back edge), naming an import on each step. */
function cycleProblems(edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] {
  const problems: string[] = [];
  const done = new Set<string>();
  const walk = (folder: string, trail: string[]): void => {
    for (const next of [...(edges.get(folder)?.keys() ?? [])].sort()) {
      const at = trail.indexOf(next);
      if (at >= 0) {
        const cycle = [...trail.slice(at), next];
        problems.push(`folder cycle: ${cycle.slice(0, -1).map((f, i) => `${f}/ -> ${cycle[i + 1]}/ (${edges.get(f)!.get(cycle[i + 1]!)})`).join(', ')}`);
      } else if (!done.has(next)) walk(next, [...trail, next]);
    }
    done.add(folder);
  };
  for (const folder of [...edges.keys()].sort()) if (!done.has(folder)) walk(folder, [folder]);
  return problems;
}

/** The repository's TypeScript files (not node_modules), repository-relative. */
export function repositorySources(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push({ path: path.relative(root, full).split(path.sep).join('/'), text: readFileSync(full, 'utf8') });
    }
  };
  visit(root);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
