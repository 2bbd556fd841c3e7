/**
 * `kvtier-bench [command] [flags]`. With no command, runs the default suite: every command with
 * its suite arguments, one after another.
 */
import type { BenchCommand } from './command.ts';

const COMMANDS: Record<string, () => Promise<{ command: BenchCommand }>> = {
  l1: () => import('./commands/l1.ts'),
  policies: () => import('./commands/policies.ts'),
  l2: () => import('./commands/l2.ts'),
  transfer: () => import('./commands/transfer.ts'),
  prefetch: () => import('./commands/prefetch.ts'),
};

function help(summaries: Record<string, string>): string {
  const lines = Object.entries(summaries).map(([name, s]) => `  ${name.padEnd(10)} ${s}`);
  return `usage: kvtier-bench [command] [flags]\n\ncommands:\n${lines.join('\n')}\n\nWith no command, runs the default suite (every command).\n`;
}

/** Entry point; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    const summaries: Record<string, string> = {};
    for (const [n, load] of Object.entries(COMMANDS)) summaries[n] = (await load()).command.summary;
    process.stdout.write(help(summaries));
    return 0;
  }
  if (name === undefined) {
    let worst = 0;
    for (const [n, load] of Object.entries(COMMANDS)) {
      const { command } = await load();
      process.stdout.write(`\n== kvtier-bench ${n} ${command.suiteArgs.join(' ')}\n`);
      worst = Math.max(worst, await command.run(command.suiteArgs));
    }
    return worst;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`kvtier-bench: unknown command '${name}' (try --help)\n`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}
