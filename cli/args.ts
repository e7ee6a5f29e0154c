// Command-line parsing with kubectl's habits: flags before or after the command words
// (`rollway -n shop promote web`), `--flag value` or `--flag=value`, short flags with their value
// attached (`-ojson`), booleans that accept `--flag=false`, and `--` to end flags. One table of
// commands drives parsing, `--help` and the shell completion scripts.

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  description: string;
  /** shown in help as the value's placeholder */
  valueName?: string;
  default?: string | boolean;
  /** the values completion offers */
  values?: readonly string[];
  /** a string flag that may be given several times: the values are joined with commas */
  repeatable?: boolean;
}

export interface CommandSpec {
  /** command words: ['get', 'rollout'] */
  words: readonly string[];
  /** other spellings of the last word: ['ro', 'rollouts'] */
  aliases?: readonly string[];
  /** positional placeholders after the words, e.g. 'NAME' or 'CONTAINER=IMAGE'; a trailing '?' marks optional */
  args: readonly string[];
  summary: string;
  details?: string;
  flags: readonly FlagSpec[];
  /** completes positional arguments with rollout names */
  completesRollouts?: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'namespace', short: 'n', type: 'string', valueName: 'NS', description: 'namespace (default: the kubeconfig context\'s, else "default")' },
  { name: 'context', type: 'string', valueName: 'NAME', description: 'kubeconfig context to use' },
  { name: 'kubeconfig', type: 'string', valueName: 'FILE', description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help for the command' },
];

export type FlagValues = Record<string, string | boolean | undefined>;

export interface Parsed {
  command: CommandSpec | undefined;
  /** the words typed before the positionals, when no command matched */
  words: string[];
  positionals: string[];
  flags: FlagValues;
}

function flagTable(commands: readonly CommandSpec[]): Map<string, FlagSpec> {
  const table = new Map<string, FlagSpec>();
  for (const flag of [...GLOBAL_FLAGS, ...commands.flatMap((c) => c.flags)]) {
    const existing = table.get(flag.name);
    if (existing && existing.type !== flag.type) throw new Error(`flag --${flag.name} is declared both as ${existing.type} and as ${flag.type}`);
    table.set(flag.name, flag);
    if (flag.short) table.set(`-${flag.short}`, flag);
  }
  return table;
}

function booleanValue(flag: FlagSpec, text: string): boolean {
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw new UsageError(`--${flag.name} takes true or false, got "${text}"`);
}

/** Splits argv into flags and positionals, then finds the command its first positionals name. */
export function parse(argv: readonly string[], commands: readonly CommandSpec[]): Parsed {
  const { flags, positionals } = splitArgv(argv, flagTable(commands));
  const command = matchCommand(positionals, commands);
  if (!command) return { command: undefined, words: positionals, positionals: [], flags };
  const rest = positionals.slice(command.words.length);
  checkFlagsBelong(flags, command);
  for (const flag of command.flags) if (flags[flag.name] === undefined && flag.default !== undefined) flags[flag.name] = flag.default;
  // With --help the arguments go unchecked: `rollway promote --help` shows help rather than asking for NAME.
  if (!flags.help) checkArgCount(rest, command);
  return { command, words: [...command.words], positionals: rest, flags };
}

function splitArgv(argv: readonly string[], table: Map<string, FlagSpec>): { flags: FlagValues; positionals: string[] } {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone `-` and negative numbers (`-5`) are positionals, not short flags.
    if (arg.startsWith('--') && arg.length > 2) i = readLongFlag(argv, i, table, flags);
    else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) i = readShortFlag(argv, i, table, flags);
    else positionals.push(arg);
  }
  return { flags, positionals };
}

/** Reads the `--name`, `--name=value` or `--name value` at argv[i] into flags; returns the index of the last word it used. */
function readLongFlag(argv: readonly string[], i: number, table: Map<string, FlagSpec>, flags: FlagValues): number {
  const arg = argv[i]!;
  const eq = arg.indexOf('=');
  const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
  const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
  const flag = table.get(name);
  // The table also keys the short spellings ('-n'): `---n` must not find them.
  if (!flag || name.startsWith('-')) throw new UsageError(`unknown flag --${name}`);
  if (flag.type === 'boolean') flags[flag.name] = inline === undefined ? true : booleanValue(flag, inline);
  else {
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag --${name} needs a value${flag.valueName ? ` (${flag.valueName})` : ''}`);
    const earlier = flags[flag.name];
    flags[flag.name] = flag.repeatable && typeof earlier === 'string' ? `${earlier},${value}` : value;
  }
  return i;
}

/** Reads the `-n`, `-nVALUE`, `-n=VALUE` or `-n VALUE` at argv[i] into flags; returns the index of the last word it used. */
function readShortFlag(argv: readonly string[], i: number, table: Map<string, FlagSpec>, flags: FlagValues): number {
  const arg = argv[i]!;
  const flag = table.get(arg.slice(0, 2));
  if (!flag) throw new UsageError(`unknown flag ${arg.slice(0, 2)}`);
  const written = arg.slice(2);
  const attached = written.replace(/^=/, '');
  if (flag.type === 'boolean') {
    if (attached !== '') throw new UsageError(`flag -${flag.short} takes no value, got "${arg}"`);
    flags[flag.name] = true;
  } else {
    // `-o=` is an empty value, as `--output=` is; only a bare `-o` takes the next word.
    const value = written !== '' ? attached : argv[++i];
    if (value === undefined) throw new UsageError(`flag -${flag.short} needs a value${flag.valueName ? ` (${flag.valueName})` : ''}`);
    flags[flag.name] = value;
  }
  return i;
}

/** The longest command whose words (or the aliases of its last word) start the positionals. */
function matchCommand(positionals: readonly string[], commands: readonly CommandSpec[]): CommandSpec | undefined {
  let best: CommandSpec | undefined;
  for (const command of commands) {
    const n = command.words.length;
    if (positionals.length < n) continue;
    const matches = command.words.every((w, i) => positionals[i] === w || (i === n - 1 && (command.aliases ?? []).includes(positionals[i]!)));
    if (matches && (!best || n > best.words.length)) best = command;
  }
  return best;
}

/** Rejects another command's flags: argv was read against every command's, as which command it names is only known afterwards. */
function checkFlagsBelong(flags: FlagValues, command: CommandSpec): void {
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    if (!GLOBAL_FLAGS.some((f) => f.name === name) && !command.flags.some((f) => f.name === name)) {
      throw new UsageError(`unknown flag --${name} for "rollway ${command.words.join(' ')}"; see rollway ${command.words.join(' ')} --help`);
    }
  }
}

function checkArgCount(args: readonly string[], command: CommandSpec): void {
  const required = command.args.filter((a) => !a.endsWith('?') && !a.endsWith('...'));
  if (args.length < required.length) {
    throw new UsageError(`missing ${required.slice(args.length).join(' ')}; usage: ${usageLine(command)}`);
  }
  const variadic = command.args.some((a) => a.endsWith('...'));
  if (!variadic && args.length > command.args.length) throw new UsageError(`unexpected argument "${args[command.args.length]}"; usage: ${usageLine(command)}`);
}

export function usageLine(command: CommandSpec): string {
  const args = command.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : a));
  const flags = command.flags.map((f) => (f.type === 'boolean' ? `[--${f.name}]` : `[--${f.name} ${f.valueName ?? 'VALUE'}]`));
  return ['rollway', ...command.words, ...args, ...flags].join(' ');
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const rows = flags.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'string' ? ` ${f.valueName ?? 'VALUE'}` : ''}`;
    const dflt = f.default !== undefined && f.default !== false ? ` (default ${String(f.default)})` : '';
    return [names, `${f.description}${dflt}`] as const;
  });
  const width = Math.max(0, ...rows.map(([n]) => n.length));
  return rows.map(([n, d]) => `  ${n.padEnd(width)}  ${d}`);
}

export function commandHelp(command: CommandSpec): string {
  const lines = [`${command.summary}`, '', `Usage:\n  ${usageLine(command)}`];
  if (command.aliases?.length) lines.push('', `Aliases: ${command.words.slice(0, -1).concat(command.aliases.join('|')).join(' ')}`);
  if (command.details) lines.push('', command.details.trimEnd());
  if (command.flags.length > 0) lines.push('', 'Flags:', ...flagLines(command.flags));
  lines.push('', 'Global flags:', ...flagLines(GLOBAL_FLAGS));
  return `${lines.join('\n')}\n`;
}

export function overallHelp(commands: readonly CommandSpec[], header: string): string {
  const rows = commands.map((c) => [[...c.words, ...c.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : a))].join(' '), c.summary] as const);
  const width = Math.max(...rows.map(([u]) => u.length));
  return `${header}

Usage: rollway COMMAND [ARGS] [FLAGS]   (also: kubectl rollway COMMAND ...)

Commands:
${rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`).join('\n')}

Global flags:
${flagLines(GLOBAL_FLAGS).join('\n')}

Run "rollway COMMAND --help" for a command's flags. Exit codes: 0 success, 1 error (not found,
API or kubeconfig error), 2 usage error; "status" has its own (see rollway status --help).
`;
}

/** "10s", "5m", "1h30m", "250ms" or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  let total = 0;
  let consumed = 0;
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    if (m.index !== consumed) break;
    consumed += m[0].length;
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  if (consumed !== trimmed.length || consumed === 0) throw new UsageError(`${flag} takes a duration such as 30s, 5m or 1h, got "${text}"`);
  return Math.round(total);
}
