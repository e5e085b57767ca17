import type { Command } from "commander";
import { parseDatetimeUnits } from "./datetime-units";
import { CliError, connectionUrl, createCommand, describeFailure, exitWhenDrained, POSTGRES_SCHEMES, processIo, required, runCommand, type CliIo } from "../lib/cli";
import { exitCodeFor, renderTable } from "../lib/report";
import { migrateSqliteToPostgres, type CutoverReport } from "./migrate";

/**
 * `npm run migrate:sqlite-to-postgres -- --sqlite=backend/prisma/dev.db --database-url=...`
 * (RUNBOOK.md, "SQLite rollback fallback (cutover window)", steps 2-4). Exit codes: 0 committed (or a
 * clean dry run), 1 a check failed and the transaction rolled back, 2 bad input (flags, files).
 * With --json, stdout is exactly one JSON document whatever the exit code (the README's step 4
 * reads it with jq precisely when the cutover failed).
 */

interface CliOptions {
  sqlite?: string;
  databaseUrl?: string;
  schema?: string;
  truncate?: boolean;
  dryRun?: boolean;
  domainChecks?: string;
  json?: boolean;
  snapshotDir: string;
  allowEmpty?: boolean;
  datetimeUnit: string[];
}

/** The report for machines: everything but the snapshot bytes, plus the process's peak memory. */
export function reportJson(report: CutoverReport): string {
  const exitCode = exitCodeFor(report.results);
  return JSON.stringify({ passed: exitCode === 0, exitCode, ...report, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }, null, 2);
}

const collect = (value: string, previous: string[]) => [...previous, value];

function cutoverCommand(): Command {
  return createCommand("migrate:sqlite-to-postgres", "Copy the Prisma SQLite database into the migrated PostgreSQL schema in one validated transaction")
    .option("--sqlite <file>", "the SQLite database, e.g. backend/prisma/dev.db")
    .option("--database-url <url>", "the target PostgreSQL (default: DATABASE_URL); ?schema=name selects the schema")
    .option("--schema <name>", "the target schema (default: the URL's schema parameter, else public)")
    .option("--truncate", "empty the target tables first, inside the same transaction (otherwise a non-empty target is refused)")
    .option("--dry-run", "print the plan (order, row counts, column mappings) and pre-checks; write nothing")
    .option("--domain-checks <file>", "YAML/JSON list of { name, sql } or { name, target, source | expect } checks")
    .option("--json", "print the report as one JSON document, whatever the exit code")
    .option("--snapshot-dir <dir>", "where the SQLite snapshot and its .sha256 are written (a .gitignore inside keeps it out of git)", "cutover-snapshots")
    .option("--allow-empty", "migrate a source that has none of the target's tables (refused by default: a wrong path makes SQLite create an empty file)")
    .option("--datetime-unit <Table.column=s|ms>", "the epoch unit of an integer DateTime column when its values cannot tell (repeatable)", collect, []);
}

/**
 * The command on the shared runner (ops/lib/cli.ts). A refusal before any report (a missing file, a
 * pending -wal, a bad --datetime-unit) still gives the report's shape with --json, so the README's
 * `jq` lines read `.passed` and `.results` on every run.
 */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number> {
  return runCommand<CliOptions>(cutoverCommand(), argv, (opts) => run(opts, env, io).catch((error: unknown) => refuse(opts, error, io)), io);
}

function refuse(opts: CliOptions, error: unknown, io: CliIo): number {
  const { exitCode, message } = describeFailure(error);
  io.stderr(`migrate:sqlite-to-postgres: ${message}\n`);
  if (opts.json) {
    const document = { command: "migrate:sqlite-to-postgres", passed: false, exitCode, committed: false, error: message, results: [{ check: "input", status: "fail", detail: message }] };
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  }
  return exitCode;
}

async function run(opts: CliOptions, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const sqlite = required(opts.sqlite, "--sqlite", "--sqlite=backend/prisma/dev.db");
  const databaseUrl = opts.databaseUrl ?? env.DATABASE_URL;
  if (!databaseUrl) throw new CliError("no target database: pass --database-url=postgresql://user:password@host:5432/db or set DATABASE_URL");
  const report = await migrateSqliteToPostgres({
    sqlitePath: sqlite,
    databaseUrl: connectionUrl(databaseUrl, opts.databaseUrl === undefined ? "DATABASE_URL" : "--database-url", POSTGRES_SCHEMES),
    ...(opts.schema ? { schema: opts.schema } : {}),
    truncate: opts.truncate ?? false,
    dryRun: opts.dryRun ?? false,
    ...(opts.domainChecks ? { domainChecksFile: opts.domainChecks } : {}),
    snapshotDir: opts.snapshotDir,
    allowEmpty: opts.allowEmpty ?? false,
    datetimeUnits: parseDatetimeUnits(opts.datetimeUnit),
    // The plan and progress go to stderr so stdout stays the report; a dry run's plan is its report.
    ...(opts.json ? {} : { log: (line: string) => (opts.dryRun ? io.stdout : io.stderr)(`${line}\n`) }),
  });
  if (opts.json) {
    io.stdout(`${reportJson(report)}\n`);
  } else {
    const title = report.dryRun ? "SQLite -> PostgreSQL cutover (dry run: nothing written)" : `SQLite -> PostgreSQL cutover (${report.committed ? "committed" : "rolled back"})`;
    io.stdout(`${renderTable(report.results, title)}\n`);
  }
  return exitCodeFor(report.results);
}

if (require.main === module) void main(process.argv.slice(2)).then(exitWhenDrained);
