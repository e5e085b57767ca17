import { Command } from "commander";
import { exitCodeFor, renderTable, runCli } from "../lib/report";
import { migrateSqliteToPostgres, type CutoverReport } from "./migrate";

/**
 * `npm run migrate:sqlite-to-postgres -- --sqlite=backend/prisma/dev.db --database-url=...`
 * (RUNBOOK.md, "SQLite rollback fallback (cutover window)", steps 2-4). Exit codes: 0 committed (or a
 * clean dry run), 1 a check failed and the transaction rolled back, 2 bad input (flags, files).
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
}

/** The report for machines: everything but the snapshot bytes, plus the process's peak memory. */
export function reportJson(report: CutoverReport): string {
  const passed = exitCodeFor(report.results) === 0;
  return JSON.stringify({ passed, ...report, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }, null, 2);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command("migrate:sqlite-to-postgres")
    .description("Copy the Prisma SQLite database into the migrated PostgreSQL schema in one validated transaction")
    .option("--sqlite <file>", "the SQLite database, e.g. backend/prisma/dev.db")
    .option("--database-url <url>", "the target PostgreSQL (default: DATABASE_URL); ?schema=name selects the schema")
    .option("--schema <name>", "the target schema (default: the URL's schema parameter, else public)")
    .option("--truncate", "empty the target tables first, inside the same transaction (otherwise a non-empty target is refused)")
    .option("--dry-run", "print the plan (order, row counts, column mappings) and pre-checks; write nothing")
    .option("--domain-checks <file>", "YAML/JSON list of { name, sql } or { name, target, source | expect } checks")
    .option("--json", "print the report as JSON instead of a table")
    .option("--snapshot-dir <dir>", "where the SQLite snapshot and its .sha256 are written", "cutover-snapshots")
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
