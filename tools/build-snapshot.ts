// Builds what the container image starts (Dockerfile): the program bundled into one CommonJS script
// by esbuild, from cli/snapshot.ts, and a V8 startup snapshot of that script made by the Node that
// will run it. Restored from the snapshot, a process skips reading, compiling and evaluating about
// 300 modules (README "Benchmarks" has the start-up figures).
//   node tools/build-snapshot.ts DIR                 DIR/rollway.cjs and DIR/rollway.blob
//   node tools/build-snapshot.ts --bundle-only DIR   DIR/rollway.cjs (the image's build stage; its
//                                                     last stage makes the blob with its own Node)
// DIR is a compiled program's root (dist/, laid out as the repository): files the program reads
// beside its code, such as the dashboard's page, are found relative to the bundle there.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = 'rollway.cjs';
export const BLOB = 'rollway.blob';
const ON_DEMAND = path.join(repoRoot, 'lib/on-demand.ts');

/** esbuild plugin: the snapshot's version of lib/on-demand.ts, and import.meta of our modules as CommonJS can give it. */
const snapshotSources: esbuild.Plugin = {
  name: 'rollway-snapshot-sources',
  setup(build) {
    build.onResolve({ filter: /on-demand\.[jt]s$/ }, (args) => {
      const target = path.resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      return target === ON_DEMAND ? { path: target.replace(/\.ts$/, '.snapshot.ts') } : undefined;
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      // import.meta.dirname of a module: its folder in the compiled layout, beside the bundle.
      const folder = path.relative(repoRoot, path.dirname(args.path));
      const text = (await readFile(args.path, 'utf8')).replaceAll('import.meta.dirname', `require('node:path').join(__dirname, ${JSON.stringify(folder)})`);
      return { contents: text, loader: 'ts' };
    });
  },
};

/** Bundles cli/snapshot.ts and everything it imports into DIR/rollway.cjs. Warnings fail the build. */
export async function bundle(dir: string): Promise<string> {
  const outfile = path.resolve(dir, BUNDLE);
  const result = await esbuild.build({
    entryPoints: [path.join(repoRoot, 'cli/snapshot.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node26',
    plugins: [snapshotSources],
    logLevel: 'silent',
  });
  if (result.warnings.length > 0) {
    const text = await esbuild.formatMessages(result.warnings, { kind: 'warning' });
    throw new Error(`bundling for the snapshot:\n${text.join('')}`);
  }
  return outfile;
}

/**
 * Makes DIR/rollway.blob from DIR/rollway.cjs with the given Node (it must be the one that runs the
 * blob), in an empty environment: were a module to read a variable at its top level, the snapshot
 * would hold it unset rather than whatever the machine that built it had. Anything the builder
 * prints fails the build: it warns when a module loads a built-in Node does not vouch for in a
 * snapshot, whose state could be wrong after the restore.
 */
export function snapshot(dir: string, node = process.execPath): string {
  const blob = path.resolve(dir, BLOB);
  const built = spawnSync(node, ['--snapshot-blob', blob, '--build-snapshot', path.resolve(dir, BUNDLE)], { cwd: dir, env: {}, encoding: 'utf8' });
  const said = `${built.stdout}${built.stderr}`.trim();
  if (built.status !== 0 || said !== '') throw new Error(`building the snapshot${built.status === 0 ? '' : ` (exit ${built.status})`}:\n${said}`);
  return blob;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const bundleOnly = args.includes('--bundle-only');
  const dir = path.resolve(args.find((a) => !a.startsWith('--')) ?? 'dist');
  await bundle(dir);
  if (!bundleOnly) snapshot(dir);
}
