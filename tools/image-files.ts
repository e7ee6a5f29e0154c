// The files the container image holds, read from the Dockerfile's COPY lines and .dockerignore
// as a container build would, and the files the entrypoint needs, from its imports. No container
// engine runs here: tools/image-files.test.ts checks the two agree, and e2e/image.test.ts
// assembles exactly these files into a folder and runs the controller from it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * What the image's program is built and started from (relative to WORKDIR, which mirrors the
 * repository): the CLI's launcher, the entry of the startup snapshot the ENTRYPOINT runs, and the
 * tool that bundles that entry in the build stage (with the file it puts in place of lib/on-demand.ts).
 */
export const ENTRY_POINTS = ['cli/rollway.js', 'cli/snapshot.ts', 'tools/build-snapshot.ts', 'lib/on-demand.snapshot.ts'];

/**
 * The sources of each COPY line (a build-context path each; `COPY a b ./dest`). A `COPY --from=`
 * copies a build stage's output, not the context: the build stage's own COPY lines hold the sources
 * it compiles, so the entrypoint's imports are checked against those.
 */
export function copySources(dockerfile: string): string[] {
  const sources: string[] = [];
  for (const line of dockerfile.split('\n')) {
    const m = /^\s*COPY\s+(.+)$/i.exec(line);
    if (!m || /\s--from=/.test(line)) continue;
    const words = m[1]!.trim().split(/\s+/).filter((w) => !w.startsWith('--'));
    const dest = words.pop() ?? '';
    // Our Dockerfile copies each path to the same place under WORKDIR: say so if one does not.
    const normalized = path.posix.normalize(dest.replace(/^\.\//, ''));
    for (const source of words) {
      if (normalized !== '.' && normalized !== source.replace(/\/$/, '')) throw new Error(`Dockerfile: COPY ${source} ${dest} moves a path; image-files expects each path copied to the same place`);
      sources.push(source.replace(/\/$/, ''));
    }
  }
  return sources;
}

/** .dockerignore patterns as regular expressions over context-relative paths (`*`, `**`, `?`). */
/** The ENV lines (one KEY=VALUE each) of a Dockerfile's last stage: what a container of the image starts with. */
export function dockerfileEnv(dockerfile: string): Record<string, string> {
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return Object.fromEntries([...lastStage.matchAll(/^ENV\s+(\w+)=(\S+)\s*$/gm)].map((m) => [m[1]!, m[2]!]));
}

export function ignoreMatchers(dockerignore: string): { pattern: RegExp; negate: boolean }[] {
  return dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      let re = '';
      for (let i = 0; i < glob.length; i++) {
        const c = glob[i]!;
        if (c === '*' && glob[i + 1] === '*') {
          re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += glob[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      // A pattern naming a folder excludes what is inside it too.
      return { pattern: new RegExp(`^${re}(?:/.*)?$`), negate };
    });
}

function ignored(file: string, matchers: ReturnType<typeof ignoreMatchers>): boolean {
  let out = false;
  for (const { pattern, negate } of matchers) if (pattern.test(file)) out = !negate;
  return out;
}

function walk(root: string, rel: string): string[] {
  const full = path.join(root, rel);
  const stat = statSync(full, { throwIfNoEntry: false });
  if (!stat) throw new Error(`Dockerfile: COPY ${rel}: no such file in the build context`);
  if (!stat.isDirectory()) return [rel];
  return readdirSync(full).flatMap((name) => walk(root, path.posix.join(rel, name)));
}

/** Every file the image gets, relative to WORKDIR, from the given Dockerfile and .dockerignore texts. */
export function imageFiles(dockerfile: string, dockerignore: string, root = repoRoot): string[] {
  const matchers = ignoreMatchers(dockerignore);
  const files = copySources(dockerfile).flatMap((source) => walk(root, source));
  return [...new Set(files.filter((f) => !ignored(f, matchers)))].sort();
}

export function committedImageFiles(): string[] {
  return imageFiles(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'), readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8'));
}

const IMPORT = /(?:^|[^.\w])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** The repository files the entry points load, static and dynamic imports alike (relative ones only). */
export function importClosure(entries: readonly string[] = ENTRY_POINTS, root = repoRoot): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      if (!spec.startsWith('.')) continue; // packages come from npm ci
      queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)));
    }
  }
  return [...seen].sort();
}

/** Files a running image reads besides its imports (the dashboard's page, package.json for npm ci). */
export function runtimeAssets(root = repoRoot): string[] {
  return ['package.json', 'package-lock.json', ...walk(root, 'dashboard/static')];
}
