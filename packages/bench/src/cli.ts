/**
 * `kvtier-bench [command] [flags]`. With no command, runs the main job, `serve`; `suite` runs every
 * micro-benchmark with its suite arguments, one after another.
 */
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
    + `With no command, runs the main job (${MAIN}). \`kvtier-bench <command> --help\` lists its flags.\n`;
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
    process.stderr.write(`kvtier-bench: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')}, suite)\n`);
    return 2;
  }
  const { command } = await load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return runCommand(chosen, command, args);
}
