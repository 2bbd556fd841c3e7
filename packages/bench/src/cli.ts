/**
 * `kvtier-bench [command] [flags]`. With no command, runs the main job, `serve`; `suite` runs every
 * micro-benchmark with its suite arguments, one after another.
 */
import { readFileSync } from 'node:fs';
import { didYouMean, UsageError } from './args.ts';
import type { BenchCommand } from './command.ts';

/** The command `kvtier-bench` runs with no arguments. */
const MAIN = 'serve';

const COMMANDS: Record<string, () => Promise<{ command: BenchCommand }>> = {
  serve: () => import('./commands/serve.ts'),
  l1: () => import('./commands/l1.ts'),
  policies: () => import('./commands/policies.ts'),
  l2: () => import('./commands/l2.ts'),
  prefetch: () => import('./commands/prefetch.ts'),
  transfer: () => import('./commands/transfer.ts'),
};

async function help(): Promise<string> {
  const lines: string[] = [];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${(await load()).command.summary}`);
  lines.push(`  ${'suite'.padEnd(10)} every micro-benchmark above but serve, with small settings, one after another`);
  return `usage: kvtier-bench [command] [flags]\n\ncommands:\n${lines.join('\n')}\n\n`
    + `With no command, runs the main job (${MAIN}). \`kvtier-bench help <command>\` (or \`<command> --help\`) lists its flags;\n`
    + '`--version` prints the version. Exit codes: 0 done, 1 the run failed, 2 a bad command line.\n';
}

/** The version of @kvtier/bench. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The one line naming an unknown command, with the closest known one. */
function unknownCommand(name: string): string {
  const known = [...Object.keys(COMMANDS), 'suite'];
  return `kvtier-bench: unknown command '${name}'${didYouMean(name, known)} (commands: ${known.join(', ')})\n`;
}

/** Runs one command; a failure ends with one line naming the command: exit 2 for a bad command line, 1 for a failed run. */
async function runCommand(name: string, command: BenchCommand, argv: string[]): Promise<number> {
  try {
    return await command.run(argv);
  } catch (err) {
    process.stderr.write(`kvtier-bench ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/** Entry point; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    process.stdout.write(`kvtier-bench ${version()}\n`);
    return 0;
  }
  if (name === 'help' && rest.length > 0) {
    const load = COMMANDS[rest[0]];
    if (load === undefined) {
      process.stderr.write(unknownCommand(rest[0]));
      return 2;
    }
    process.stdout.write(`${(await load()).command.usage}\n`);
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await help());
    return 0;
  }
  if (name === 'suite') {
    let worst = 0;
    const names = Object.keys(COMMANDS).filter((n) => n !== MAIN);
    for (const [i, n] of names.entries()) {
      const { command } = await COMMANDS[n]();
      process.stdout.write(`\n== [${i + 1}/${names.length}] kvtier-bench ${n} ${command.suiteArgs.join(' ')}\n`);
      worst = Math.max(worst, await runCommand(n, command, command.suiteArgs));
    }
    return worst;
  }
  const chosen = name === undefined || name.startsWith('--') ? MAIN : name;
  const args = chosen === name ? rest : argv;
  const load = COMMANDS[chosen];
  if (!load) {
    process.stderr.write(unknownCommand(name));
    return 2;
  }
  const { command } = await load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return runCommand(chosen, command, args);
}
