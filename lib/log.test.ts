import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, parseLogFormat, parseLogLevel, stderrBatch, type LoggerOptions } from './log.ts';

const at = new Date('2026-11-30T20:00:00.000Z');

function capture(options: LoggerOptions): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ now: () => at, write: (l) => lines.push(l), ...options }) };
}

void test('a level writes itself and the levels above it, nothing more detailed', () => {
  const written = (level: 'error' | 'warn' | 'info' | 'debug'): string[] => {
    const { lines, log } = capture({ level, format: 'json' });
    for (const l of ['debug', 'info', 'warn', 'error'] as const) log(l, `at ${l}`, {});
    return lines.map((line) => (JSON.parse(line) as { level: string }).level);
  };
  assert.deepEqual(written('error'), ['error']);
  assert.deepEqual(written('warn'), ['warn', 'error']);
  assert.deepEqual(written('info'), ['info', 'warn', 'error']);
  assert.deepEqual(written('debug'), ['debug', 'info', 'warn', 'error']);
  assert.deepEqual(written(undefined as never), ['info', 'warn', 'error'], 'default info');
});

void test('JSON: one object a line with time, level, message, base and fields; an Error as its message', () => {
  const { lines, log } = capture({ format: 'json', base: { instance: 'blue' } });
  log('warn', 'watch failed', { resource: 'rollouts', err: new Error('connection reset'), n: 3 });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n') && !lines[0]!.slice(0, -1).includes('\n'));
  assert.deepEqual(JSON.parse(lines[0]!), { time: '2026-11-30T20:00:00.000Z', level: 'warn', msg: 'watch failed', instance: 'blue', resource: 'rollouts', err: 'connection reset', n: 3 });
});

void test('text: time, padded level, message, then key=value with values quoted when they have spaces', () => {
  const { lines, log } = capture({ format: 'text' });
  log('info', 'metrics listening', { address: '127.0.0.1:8090' });
  log('error', 'reconcile failed', { key: 'shop/web', error: 'the server said "no"', weights: [10, 90] });
  assert.deepEqual(lines, [
    '2026-11-30T20:00:00.000Z INFO  metrics listening address=127.0.0.1:8090\n',
    '2026-11-30T20:00:00.000Z ERROR reconcile failed key=shop/web error="the server said \\"no\\"" weights=[10,90]\n',
  ]);
});

void test('--log-level and --log-format: the accepted values, the TTY default, and a clear error', () => {
  assert.equal(parseLogLevel('debug'), 'debug');
  assert.throws(() => parseLogLevel('verbose'), /--log-level must be one of error, warn, info, debug, got "verbose"/);
  assert.equal(parseLogFormat('json', true), 'json');
  assert.equal(parseLogFormat(undefined, true), 'text', 'a person at a terminal');
  assert.equal(parseLogFormat(undefined, false), 'json', 'a pod or a pipe');
  assert.throws(() => parseLogFormat('xml', false), /--log-format must be json or text, got "xml"/);
});

void test('stderrBatch: the lines of one turn of the event loop go out in one write, in order; the next turn in the next', async () => {
  const writes: string[] = [];
  const write = stderrBatch((text) => writes.push(text), () => undefined);
  write('a\n');
  write('b\n');
  assert.deepEqual(writes, [], 'nothing written inside the turn');
  await new Promise((resolve) => setImmediate(resolve));
  write('c\n');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, ['a\nb\n', 'c\n']);
});

void test('a process that exits right after logging still writes the line (the batch is flushed at exit)', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const log = fileURLToPath(new URL('./log.ts', import.meta.url));
  const script = `import { createLogger } from ${JSON.stringify(log)}; createLogger({ format: 'text' })('error', 'last words', { code: 7 }); process.exit(3);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 3);
  assert.match(run.stderr, /ERROR last words code=7/);
});
