#!/usr/bin/env node
// `rollway` / `kubectl rollway` (the commands are in commands.ts). This file only turns on Node's
// compile cache before anything else loads: the program's TypeScript is then stripped and compiled
// once per version instead of at every start, so a restarted controller is back in about half the
// time. Where the cache folder cannot be written, Node goes on without it.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('./commands.ts');
if (import.meta.main) main(process.argv.slice(2));
