// Shell completion. The scripts for bash, zsh and fish are small: each asks the CLI itself
// (`rollway __complete WORDS...`) for the candidates, so the command table is the one source of
// truth and rollout names come from the cluster.
import { GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './args.ts';

/**
 * Candidates for the last word of `words` (the words typed after the program name; the last one
 * is the word being completed, possibly empty). `rollouts` lists rollout names on demand.
 */
export async function complete(words: readonly string[], commands: readonly CommandSpec[], rollouts: () => Promise<string[]>): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const allFlags = [...GLOBAL_FLAGS, ...commands.flatMap((c) => c.flags)];
  const flagNamed = (word: string): FlagSpec | undefined =>
    word.startsWith('--') ? allFlags.find((f) => f.name === word.slice(2)) : word.startsWith('-') && word.length === 2 ? allFlags.find((f) => f.short === word.slice(1)) : undefined;

  // The value of a flag being typed.
  const previous = before.at(-1);
  const valueOf = previous ? flagNamed(previous) : undefined;
  if (valueOf && valueOf.type === 'string') return (valueOf.values ?? []).filter((v) => v.startsWith(current));

  // The positionals so far (flags and their values skipped).
  const positionals: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    const flag = flagNamed(w);
    if (flag) {
      if (flag.type === 'string' && !w.includes('=')) i++;
      continue;
    }
    if (w.startsWith('-')) continue;
    positionals.push(w);
  }
  const matching = commands.filter((c) => !c.words[0]!.startsWith('__') && c.words.every((w, i) => i >= positionals.length || positionals[i] === w || (i === c.words.length - 1 && (c.aliases ?? []).includes(positionals[i]!))));
  const command = matching.find((c) => positionals.length >= c.words.length);

  if (current.startsWith('-')) {
    const flags = [...GLOBAL_FLAGS, ...(command?.flags ?? [])];
    return flags.map((f) => `--${f.name}`).filter((f) => f.startsWith(current));
  }
  if (!command) {
    const next = new Set(matching.map((c) => c.words[positionals.length]).filter((w): w is string => w !== undefined));
    return [...next].filter((w) => w.startsWith(current)).sort();
  }
  const argIndex = positionals.length - command.words.length;
  const argName = command.args[argIndex];
  if (argName === undefined) return [];
  if (command.completesRollouts && argIndex === 0) {
    try {
      return (await rollouts()).filter((n) => n.startsWith(current));
    } catch {
      return [];
    }
  }
  if (argName.startsWith('SHELL')) return ['bash', 'zsh', 'fish'].filter((s) => s.startsWith(current));
  return [];
}

export function completionScript(shell: string): string {
  switch (shell) {
    case 'bash':
      return `# rollway completion for bash: source <(rollway completion bash)
_rollway_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _rollway_complete rollway kubectl-rollway
`;
    case 'zsh':
      return `#compdef rollway kubectl-rollway
# rollway completion for zsh: source <(rollway completion zsh)
_rollway() {
  local -a candidates
  candidates=("\${(@f)$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- \${candidates[@]}
}
if (( $+functions[compdef] )); then compdef _rollway rollway kubectl-rollway; fi
`;
    case 'fish':
      return `# rollway completion for fish: rollway completion fish | source
function __rollway_complete
    set -l words (commandline -opc)
    set -e words[1]
    rollway __complete $words (commandline -ct) 2>/dev/null
end
complete -c rollway -f -a '(__rollway_complete)'
complete -c kubectl-rollway -f -a '(__rollway_complete)'
`;
    default:
      throw new Error(`unknown shell "${shell}": use bash, zsh or fish`);
  }
}
