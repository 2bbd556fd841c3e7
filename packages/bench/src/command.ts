/** What every `kvtier-bench <name>` module exports. */
export interface BenchCommand {
  /** One line for `kvtier-bench --help`. */
  readonly summary: string;
  /** Usage text: the flags this command takes. */
  readonly usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
  /** The arguments the default suite (`kvtier-bench` with no arguments) runs this command with. */
  readonly suiteArgs: string[];
}
