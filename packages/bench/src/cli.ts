/**
 * `kvtier-bench [command] [flags]`. With no command, runs the default suite: every command with
 * its suite arguments, one after another.
 */
import type { BenchCommand } from './command.ts';

const COMMANDS: Record<string, () => Promise<{ command: BenchCommand }>> = {
  l1: () => import('./commands/l1.ts'),
  policies: () => import('./commands/policies.ts'),
  l2: () => import('./commands/l2.ts'),
  prefetch: () => import('./commands/prefetch.ts'),
  transfer: () => import('./commands/transfer.ts'),
};

async function help(): Promise<string> {
  const lines: string[] = [];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${(await load()).command.summary}`);
  return `usage: kvtier-bench [command] [flags]\n\ncommands:\n${lines.join('\n')}\n\n`
    + 'With no command, runs the default suite (every command). `kvtier-bench <command> --help` lists its flags.\n';
}

/** Runs one command; bad flags and failed runs end with one line naming the command, exit code 2. */
async function runCommand(name: string, command: BenchCommand, argv: string[]): Promise<number> {
  try {
    return await command.run(argv);
  } catch (err) {
    process.stderr.write(`kvtier-bench ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

/** Entry point; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await help());
    return 0;
  }
  if (name === undefined) {
    let worst = 0;
    const names = Object.keys(COMMANDS);
    for (const [i, n] of names.entries()) {
      const { command } = await COMMANDS[n]();
      process.stdout.write(`\n== [${i + 1}/${names.length}] kvtier-bench ${n} ${command.suiteArgs.join(' ')}\n`);
      worst = Math.max(worst, await runCommand(n, command, command.suiteArgs));
    }
    return worst;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`kvtier-bench: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return runCommand(name, command, rest);
}
