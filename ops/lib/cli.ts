import { Command, CommanderError, type OptionValues } from "commander";

/**
 * The one command-line contract of every command (DESIGN.md, "Command-line contract"): commander
 * programs set up the same way, one exit-code table, errors for people on stderr without a stack
 * trace, and with `--json` exactly one JSON document on stdout, also when the command fails.
 *
 *     const program = createCommand("ops:staging-smoke", "Staging smoke checks").option(...);
 *     runAsProcess(program, async (opts, io) => { ...; return exitCode; });
 */

// The AWS SDK releases pinned in package.json run on Node >= 20.19; their notice that releases from
// January 2027 need Node 22 is said once, in the README ("Runtime"), not on every run of a command.
// The SDK reads exactly "true" (a user's "1" would not silence it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

/** The exit codes of every command; the README's "Exit codes" table and each `--help` print them. */
export const EXIT_CODES = [
  { code: 0, meaning: "success: every check passed, or the command did what it says" },
  { code: 1, meaning: "a check failed or a policy was violated (the report says which)" },
  { code: 2, meaning: "bad usage or bad configuration: a flag, a file, a setting; nothing was changed" },
  { code: 3, meaning: "incomplete: the command could not check or finish everything it should" },
] as const;

export type ExitCode = (typeof EXIT_CODES)[number]["code"];

/** An error meant for the person running the command: printed as `<command>: <message>`, no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = 2,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Where a command writes: stdout for its result, stderr for progress and errors. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const EXIT_CODES_HELP = `\nExit codes:\n${EXIT_CODES.map((e) => `  ${e.code}  ${e.meaning}`).join("\n")}\n`;

/**
 * A commander program with the shared contract: `-h, --help` (exit 0), errors on stderr with a
 * did-you-mean for a mistyped flag (exit 2), no excess arguments, and the exit codes in its help.
 * `name` is what the user types after `npm run` (`ops:staging-smoke`); usage lines show it so.
 */
export function createCommand(name: string, description: string, io: CliIo = processIo): Command {
  return new Command(name)
    .description(description)
    .configureHelp({ commandUsage: () => `npm run ${name} -- [options]` })
    .helpOption("-h, --help", "show this help (every flag) and exit 0")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText("after", EXIT_CODES_HELP)
    .exitOverride();
}

/**
 * A flag the command cannot run without. Checked in the action rather than with commander's
 * `requiredOption`, which reports a missing flag before an unknown one: `--base-ur=...` would say
 * "--base-url not specified" instead of "did you mean --base-url?".
 */
export function required<T>(value: T | undefined, flag: string, example: string): T {
  if (value === undefined) throw new CliError(`${flag} is required, such as ${example}`);
  return value;
}

/** URL schemes of PostgreSQL (libpq's two) and Redis (TLS first). */
export const POSTGRES_SCHEMES = ["postgresql", "postgres"] as const;
export const REDIS_SCHEMES = ["rediss", "redis"] as const;

/**
 * A connection URL given by the user, checked before anything connects: it must parse and use one
 * of `schemes` (without the colon). The error names where it came from (`DATABASE_URL`,
 * `--redis-url`) and never echoes the URL, which may carry a password. Exit 2: bad usage.
 * @example connectionUrl(env.DATABASE_URL, "DATABASE_URL", ["postgres", "postgresql"])
 */
export function connectionUrl(value: string, source: string, schemes: readonly string[]): string {
  const example = `${schemes[0]}://user:password@host:port/...`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`${source} is not a URL; give one such as ${example}`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  // libpq also reaches a Unix socket through `?host=/path` with no host in the authority.
  if (!schemes.includes(scheme) || (url.hostname === "" && !url.searchParams.has("host"))) {
    throw new CliError(`${source} must be a ${schemes.map((s) => `${s}://`).join(" or ")} URL with a host (got scheme "${scheme}"); give one such as ${example}`);
  }
  return value;
}

/** `--json` among the arguments (before a `--`): the caller wants one JSON document on stdout. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** The exit code and message of anything a command threw, without stack traces for people. */
export function describeFailure(error: unknown): { exitCode: ExitCode; message: string; usage: boolean } {
  if (error instanceof CommanderError) {
    const shown = error.code === "commander.helpDisplayed" || error.code === "commander.help" || error.code === "commander.version";
    return { exitCode: shown ? 0 : 2, message: error.message.replace(/^error: /, ""), usage: true };
  }
  const exitCode = (error as { exitCode?: unknown } | null)?.exitCode;
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: exitCode === 1 || exitCode === 3 ? exitCode : 2, message, usage: false };
}

/**
 * Reports a failure the way every command does: commander has already printed its own usage errors;
 * anything else is printed once as `<command>: <message>` on stderr. With `--json`, stdout gets one
 * document `{ command, exitCode, error }` so a pipeline parsing stdout still parses.
 */
export function reportFailure(command: string, error: unknown, json: boolean, io: CliIo = processIo): ExitCode {
  const failure = describeFailure(error);
  if (failure.exitCode === 0) return 0;
  if (!failure.usage) io.stderr(`${command}: ${failure.message}\n`);
  if (process.env.RUNBOOK_DEBUG && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  if (json) io.stdout(`${JSON.stringify({ command, exitCode: failure.exitCode, error: failure.message }, null, 2)}\n`);
  return failure.exitCode;
}

/**
 * `npm run` starts a script in the package root, so a relative path the user typed (`--sqlite=dev.db`
 * from a subdirectory) would be read from the wrong place. When this process is the npm script
 * `name` itself, it works in the directory npm was started from (npm's `INIT_CWD`); the project's own
 * files are found from the source tree, never from the working directory.
 */
function workInCallersDirectory(name: string): void {
  const { INIT_CWD: initCwd, npm_lifecycle_event: script } = process.env;
  if (initCwd && script === name && initCwd !== process.cwd()) process.chdir(initCwd);
}

/**
 * Parses `argv` (without node and the script) and runs `action` with the parsed options; returns its
 * exit code. Never throws: usage errors, `--help` and thrown errors become exit codes per the contract.
 */
export async function runCommand<O extends OptionValues>(
  program: Command,
  argv: readonly string[],
  action: (options: O, io: CliIo) => Promise<number>,
  io: CliIo = processIo,
): Promise<number> {
  const json = wantsJson(argv);
  workInCallersDirectory(program.name());
  try {
    program.parse([...argv], { from: "user" });
    return await action(program.opts<O>(), io);
  } catch (error) {
    return reportFailure(program.name(), error, json, io);
  }
}

/**
 * Runs a command as the process: `runCommand` over `process.argv`, then exits with its code once
 * stdout and stderr have taken everything written (idle keep-alive sockets or a pool's timers would
 * otherwise hold the process open, and a plain `process.exit` could cut a large report short).
 */
export function runAsProcess<O extends OptionValues>(program: Command, action: (options: O, io: CliIo) => Promise<number>): void {
  void runCommand(program, process.argv.slice(2), action).then(exitWhenDrained);
}

/** Exits with `code` once stdout and stderr have flushed. */
export function exitWhenDrained(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
