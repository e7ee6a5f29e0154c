// Modules the program loads on first use instead of at start: the YAML library (about 70 modules;
// a controller in a pod reads no kubeconfig file and never loads it) and modules from outside the
// program (@kubernetes/client-node for exec credentials, nodemailer for the first email, third-party
// router plugins). Every such load goes through this file so that the startup-snapshot build
// (tools/build-snapshot.ts) can put on-demand.snapshot.ts in its place: code restored from a V8
// startup snapshot has no import() of its own.
import { createRequire } from 'node:module';

/** The `yaml` package, required (its CommonJS build) on first use. */
export function yamlLibrary(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

/** import() of a package name (resolved from the program's node_modules) or a file URL. */
export function importOnDemand<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
