import { Command } from "commander";
import { parseDatetimeUnits } from "./datetime-units";
import { exitCodeFor, renderTable, runCli } from "../lib/report";
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

/** The run as the process: with --json, a refusal before any report (bad flags, a missing file) is a JSON document too. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await run(argv, env);
  } catch (error) {
    const e = error as { code?: unknown; exitCode?: unknown; message?: unknown };
    const shownHelp = e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version";
    if (argv.includes("--json") && !shownHelp) {
      const message = typeof e.message === "string" ? e.message : String(error);
      const document = { passed: false, exitCode: 2, committed: false, error: message.replace(/^error: /, ""), results: [{ check: "usage", status: "fail", detail: message }] };
      await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(document, null, 2)}\n`, () => resolve()));
    }
    throw error;
  }
}

async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = new Command("migrate:sqlite-to-postgres")
    .description("Copy the Prisma SQLite database into the migrated PostgreSQL schema in one validated transaction")
    .option("--sqlite <file>", "the SQLite database, e.g. backend/prisma/dev.db")
    .option("--database-url <url>", "the target PostgreSQL (default: DATABASE_URL); ?schema=name selects the schema")
    .option("--schema <name>", "the target schema (default: the URL's schema parameter, else public)")
    .option("--truncate", "empty the target tables first, inside the same transaction (otherwise a non-empty target is refused)")
    .option("--dry-run", "print the plan (order, row counts, column mappings) and pre-checks; write nothing")
    .option("--domain-checks <file>", "YAML/JSON list of { name, sql } or { name, target, source | expect } checks")
    .option("--json", "print the report as JSON instead of a table")
    .option("--snapshot-dir <dir>", "where the SQLite snapshot and its .sha256 are written (a .gitignore inside keeps it out of git)", "cutover-snapshots")
    .option("--allow-empty", "migrate a source that has none of the target's tables (refused by default: a wrong path makes SQLite create an empty file)")
    .option("--datetime-unit <Table.column=s|ms>", "the epoch unit of an integer DateTime column when its values cannot tell (repeatable)", collect, [])
    .exitOverride();
  program.parse([...argv], { from: "user" });
  const opts = program.opts<CliOptions>();
  if (!opts.sqlite) throw new Error("--sqlite is required: pass the Prisma SQLite file, e.g. --sqlite=backend/prisma/dev.db");
  const databaseUrl = opts.databaseUrl ?? env.DATABASE_URL;
  if (!databaseUrl) throw new Error("no target database: pass --database-url=postgresql://user:password@host:5432/db or set DATABASE_URL");
  const report = await migrateSqliteToPostgres({
    sqlitePath: opts.sqlite,
    databaseUrl,
    ...(opts.schema ? { schema: opts.schema } : {}),
    truncate: opts.truncate ?? false,
    dryRun: opts.dryRun ?? false,
    ...(opts.domainChecks ? { domainChecksFile: opts.domainChecks } : {}),
    snapshotDir: opts.snapshotDir,
    allowEmpty: opts.allowEmpty ?? false,
    datetimeUnits: parseDatetimeUnits(opts.datetimeUnit),
    // The plan and progress go to stderr so stdout stays the report; a dry run's plan is its report.
    ...(opts.json ? {} : { log: (line: string) => (opts.dryRun ? process.stdout : process.stderr).write(`${line}\n`) }),
  });
  if (opts.json) {
    process.stdout.write(`${reportJson(report)}\n`);
  } else {
    const title = report.dryRun ? "SQLite -> PostgreSQL cutover (dry run: nothing written)" : `SQLite -> PostgreSQL cutover (${report.committed ? "committed" : "rolled back"})`;
    process.stdout.write(`${renderTable(report.results, title)}\n`);
  }
  return exitCodeFor(report.results);
}

if (require.main === module) runCli("migrate:sqlite-to-postgres", () => main(process.argv.slice(2)));
