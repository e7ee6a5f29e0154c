// on-demand.ts as the startup snapshot has it (tools/build-snapshot.ts swaps the files): YAML is in
// the snapshot, and modules from outside the program are imported through Node's main-context
// loader, because a script restored from a snapshot cannot call import() itself.
import * as yaml from 'yaml';

// The bundle's own path, as CommonJS gives it: packages resolve from the node_modules beside it.
declare const __filename: string;

export function yamlLibrary(): typeof import('yaml') {
  return yaml;
}

type Importer = (specifier: string) => Promise<unknown>;
let importer: Importer | undefined;

export function importOnDemand<T>(specifier: string): Promise<T> {
  importer ??= mainContextImporter();
  return withoutLoaderNotice(() => importer!(specifier)) as Promise<T>;
}

function mainContextImporter(): Importer {
  const vm = process.getBuiltinModule('node:vm'); // not loaded while the snapshot is built: V8 keeps no vm state
  return vm.compileFunction('return import(specifier)', ['specifier'], { filename: __filename, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }) as Importer;
}

/**
 * Node calls that loader option experimental, once, as the first import starts: in a JSON log that
 * warning would be the only line that is not JSON, and it says nothing about Rollway. Only that one
 * is dropped; any other warning the import raises goes out as usual.
 */
function withoutLoaderNotice<T>(start: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return start();
  } finally {
    process.emitWarning = emitWarning;
  }
}
