// The routers sit below the API, the controller and the CLI: they may use kube/ (and small pure
// helpers of analysis/), never what is built on top of them, so a router plugin can be written and
// tested with routers/ alone. A test file may reach up (validation tests check the whole Rollout).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const ABOVE = ['api', 'controller', 'cli', 'dashboard', 'tools', 'e2e'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

void test('routers/ imports nothing from the layers built on it (api, controller, cli, dashboard)', () => {
  const found: string[] = [];
  for (const file of sources(here)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)) {
      const target = relative(join(here, '..'), join(file, '..', match[1]!)).split('/')[0]!;
      if (match[1]!.startsWith('.') && ABOVE.includes(target)) found.push(`${relative(here, file)} imports ${match[1]}`);
    }
  }
  assert.deepEqual(found, []);
});
