import { Client, escapeLiteral, Pool, type ClientConfig, type PoolClient } from "pg";
import { withRdsTls } from "../lib/rdsTls";
import { exitCodeFor, plural, type CheckResult } from "../lib/report";
import { CATEGORIES, planChecks, readCatalog, schemaOutcomes, type CheckCategory, type CheckOutcome, type DomainCheck, type PlannedCheck } from "./checks";
import { privilegeFindings, privilegeOfError, type Blocked } from "./privileges";
import { displayName, scanTarget } from "./sql";
import { connectClient } from "../lib/postgres";

export { CATEGORIES, type CheckCategory, type DomainCheck } from "./checks";

/**
 * "Run database integrity checks against restored DB" (RUNBOOK.md, Backup and restore drill, step 6).
 * Every check runs in a READ ONLY transaction with a statement timeout, all of them in one snapshot
 * exported by a coordinator connection, on a bounded pool of connections. Nothing is ever written.
 * What the role may not read is reported once per missing privilege (status `skip`): the run is
 * then incomplete, exit code 3, unless a check failed (1).
 */

export interface IntegrityOptions {
  /** The database to validate (a `DATABASE_URL`, or a pg config carrying TLS settings). */
  connection: string | ClientConfig;
  /** Tables that must exist (`users`, `audit.events`), besides the migrations table. */
  expectedTables?: readonly string[];
  /**
   * The migrations table to check (`schema.table` or `table`); its tool is recognised by its columns.
   * @default every table of a known migration tool present (Prisma, Knex, TypeORM, Flyway, golang-migrate, Rails, Django)
   */
  migrationsTable?: string;
  /** Row counts are compared with a live reference database or with counts recorded earlier. */
  reference?: { connection: string | ClientConfig } | { counts: Record<string, number> };
  /** Allowed row-count difference from the reference, in percent. @default 0 */
  tolerancePercent?: number;
  domainChecks?: readonly DomainCheck[];
  /** Connections checking in parallel. @default 4 */
  concurrency?: number;
  /** Per-statement limit; a check exceeding it fails (it never hangs the drill). @default 300000 */
  statementTimeoutMs?: number;
  /** amcheck also verifies every heap tuple has its index entry (reads each table again). @default false */
  heapAllIndexed?: boolean;
  /**
   * Unique indexes of at most this many entries are verified with heapallindexed and then read in
   * key order for duplicates; larger ones by sorting the table's keys, as amcheck's Bloom filter
   * outgrows the CPU caches. Both are exact. @default 2000000
   */
  orderedPassUpTo?: number;
  /** Called as checks are planned and finish, for progress displays. */
  onProgress?: (event: IntegrityProgress) => void;
  /**
   * Once aborted, no further check starts and no further connection is opened (a drill deleting
   * the database it validates); the checks never started are reported as one failed row.
   */
  signal?: AbortSignal;
}

/**
 * Progress of a validation: `planned` once with the number of checks per category; `finished` as each
 * check ends, with its rows (a row a missing privilege stopped is among them, but counts in the
 * report under `privileges`); `summary` once per category that has rows in the report, with exactly
 * those rows, as soon as no more can be added to it (privileges and connectivity at the end).
 */
export type IntegrityProgress =
  | { kind: "planned"; totals: Partial<Record<CheckCategory, number>> }
  | { kind: "finished"; category: CheckCategory; results: CheckResult[] }
  | { kind: "summary"; category: CheckCategory; results: IntegrityResult[] };

/** A report row with the category it counts under (`privileges` for a missing privilege's finding). */
export interface IntegrityResult extends CheckResult {
  category: CheckCategory;
}

export interface IntegrityReport {
  /** Every check ran and none failed (exit code 0). */
  passed: boolean;
  /** 0 passed, 1 a check failed, 3 incomplete: something could not be checked (and nothing failed), or the database could not be reached. */
  exitCode: 0 | 1 | 3;
  serverVersion: string | undefined;
  /** Row counts per table (display names), as seen in the snapshot. */
  rowCounts: Record<string, number>;
  results: IntegrityResult[];
  /** One line for records and stack outputs, e.g. "42 checks, 0 failed, 1 warning" ("..., 2 not checked" when incomplete). */
  summary: string;
}

export class IntegrityOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IntegrityOptionError";
  }
}

function config(connection: string | ClientConfig, applicationName: string): ClientConfig {
  // A URL asking for TLS without its own CA file is verified against the RDS CA bundle.
  const tls = typeof connection === "string" ? withRdsTls(connection) : connection;
  const base = typeof tls === "string" ? { connectionString: tls } : tls;
  return { connectionTimeoutMillis: 15_000, ...base, application_name: applicationName };
}

async function begin(client: { query: Client["query"] }, statementTimeoutMs: number, snapshot?: string): Promise<void> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (snapshot) await client.query(`SET TRANSACTION SNAPSHOT ${escapeLiteral(snapshot)}`);
  // work_mem sized for hashing a large table's keys in memory: the default 4MB spills them to disk.
  await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}; SET LOCAL lock_timeout = ${statementTimeoutMs}; SET LOCAL work_mem = '64MB'`);
}

/** Row counts of a reference database, read the same read-only way. */
export async function readRowCounts(connection: string | ClientConfig, statementTimeoutMs = 300_000): Promise<Record<string, number>> {
  const client = await connectClient(config(connection, "runbook-integrity-reference"));
  try {
    await begin(client, statementTimeoutMs);
    const catalog = await readCatalog(client);
    const counts: Record<string, number> = {};
    for (const t of catalog.tables) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${scanTarget(t)}`);
      counts[displayName(t.schema, t.table)] = Number(rows[0]?.n ?? 0);
    }
    return counts;
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
}

function validateOptions(options: IntegrityOptions): Required<Pick<IntegrityOptions, "concurrency" | "statementTimeoutMs" | "tolerancePercent">> {
  const concurrency = options.concurrency ?? 4;
  const statementTimeoutMs = options.statementTimeoutMs ?? 300_000;
  const tolerancePercent = options.tolerancePercent ?? 0;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new IntegrityOptionError(`concurrency is ${concurrency}; use a whole number from 1 to 32 (connections used in parallel)`);
  }
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 100) {
    throw new IntegrityOptionError(`statement timeout is ${statementTimeoutMs}; use a whole number of milliseconds, at least 100`);
  }
  if (!(tolerancePercent >= 0 && tolerancePercent <= 100)) {
    throw new IntegrityOptionError(`tolerance is ${tolerancePercent}; use a percentage from 0 to 100`);
  }
  return { concurrency, statementTimeoutMs, tolerancePercent };
}

/** Validates a database and returns every check's row; never throws for a violation, only for bad options. */
export async function validateIntegrity(options: IntegrityOptions): Promise<IntegrityReport> {
  const settings = validateOptions(options);
  const results: IntegrityResult[] = [];
  const summarized = new Set<CheckCategory>();
  // Once per category: its rows in the report, when none can be added any more.
  const summarize = (category: CheckCategory) => {
    if (summarized.has(category)) return;
    summarized.add(category);
    const rows = results.filter((r) => r.category === category);
    if (rows.length > 0) options.onProgress?.({ kind: "summary", category, results: rows });
  };
  const { serverVersion, rowCounts, reached } = await collect(options, settings, results, summarize);
  for (const category of CATEGORIES) summarize(category);
  return finish(results, serverVersion, rowCounts, reached);
}

/** Runs every check, adding its rows to `results`; `summarize(category)` is called as each category's last planned check ends. */
async function collect(
  options: IntegrityOptions,
  { concurrency, statementTimeoutMs, tolerancePercent }: ReturnType<typeof validateOptions>,
  results: IntegrityResult[],
  summarize: (category: CheckCategory) => void,
): Promise<{ serverVersion: string | undefined; rowCounts: Record<string, number>; reached: boolean }> {
  const started = performance.now();
  const coordinator = new Client(config(options.connection, "runbook-integrity"));
  let serverVersion: string | undefined;
  let role = "";
  const rowCounts: Record<string, number> = {};
  const blocked: Blocked[] = [];
  const add = (category: CheckCategory, ...rows: CheckResult[]) => results.push(...rows.map((r) => ({ ...r, category })));
  try {
    await coordinator.connect();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    add("connectivity", { check: "connectivity", status: "fail", detail: `cannot connect: ${message}; check DATABASE_URL's host, port, user, password and TLS settings`, durationMs: performance.now() - started });
    return { serverVersion, rowCounts, reached: false };
  }
  const pool = new Pool({ ...config(options.connection, "runbook-integrity"), max: concurrency });
  // An idle connection the server terminates (failover, shutdown) must not crash the process;
  // a failure on a connection in use surfaces through its query instead.
  pool.on("error", () => undefined);
  coordinator.on("error", () => undefined);
  try {
    await begin(coordinator, statementTimeoutMs);
    let snapshot: string | undefined;
    try {
      snapshot = (await coordinator.query<{ s: string }>("SELECT pg_export_snapshot() AS s")).rows[0]?.s;
    } catch {
      // Exporting fails on some hot standbys; each check then sees its own (read-only) snapshot.
      await coordinator.query("ROLLBACK");
      await begin(coordinator, statementTimeoutMs);
    }
    const catalog = await readCatalog(coordinator, { migrationsTable: options.migrationsTable });
    serverVersion = catalog.serverVersion;
    role = catalog.role;
    add("connectivity", {
      check: "connectivity",
      status: "pass",
      detail: `PostgreSQL ${catalog.serverVersion}, read-only transaction, statement_timeout ${statementTimeoutMs} ms${snapshot ? ", one shared snapshot" : ", per-check snapshots (snapshot export unavailable)"}`,
      durationMs: performance.now() - started,
    });
    add("schema", ...schemaOutcomes(catalog, [...new Set([...(options.expectedTables ?? [])])]));
    const amcheck = amcheckRow(catalog);
    if ("privilege" in amcheck) blocked.push(amcheck);
    else add("indexes", amcheck);

    let referenceCounts: Record<string, number> | undefined;
    if (options.reference && "counts" in options.reference) referenceCounts = options.reference.counts;
    if (options.reference && "connection" in options.reference) {
      try {
        referenceCounts = await readRowCounts(options.reference.connection, statementTimeoutMs);
      } catch (error) {
        add("row counts", { check: "reference", status: "fail", detail: `cannot read the reference row counts: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    const checks = planChecks(catalog, {
      expectedTables: options.expectedTables ?? [],
      migrationsTable: options.migrationsTable,
      domainChecks: options.domainChecks ?? [],
      referenceCounts,
      tolerancePercent,
      heapAllIndexed: options.heapAllIndexed ?? false,
      orderedPassUpTo: options.orderedPassUpTo,
    });
    const totals: Partial<Record<CheckCategory, number>> = {};
    for (const c of checks) totals[c.category] = (totals[c.category] ?? 0) + 1;
    options.onProgress?.({ kind: "planned", totals });
    const remaining = { ...totals };

    // Largest first: the last check to finish sets the wall time. A check that reads another's
    // verdict (a uniqueness check after amcheck verified its index) waits for that one only;
    // meanwhile the pool runs everything else.
    const queue = [...checks].sort((x, y) => (y.weight ?? 0) - (x.weight ?? 0));
    const unfinished = new Set(checks.map((c) => c.name));
    let checkFinished: () => void = () => undefined;
    let nextFinish = new Promise<void>((resolve) => (checkFinished = resolve));
    const next = async (): Promise<PlannedCheck | undefined> => {
      for (;;) {
        if (options.signal?.aborted) return undefined;
        const i = queue.findIndex((c) => c.after === undefined || !unfinished.has(c.after));
        if (i >= 0) return queue.splice(i, 1)[0];
        if (queue.length === 0) return undefined;
        await nextFinish;
      }
    };
    const worker = async () => {
      for (let check = await next(); check; check = await next()) {
        const rows = await runOne(pool, check, statementTimeoutMs, snapshot);
        unfinished.delete(check.name);
        const wake = checkFinished;
        nextFinish = new Promise<void>((resolve) => (checkFinished = resolve));
        wake();
        for (const { rowCount, blocked: denied, ...row } of rows) {
          if (rowCount) rowCounts[rowCount.table] = rowCount.count;
          if (denied) blocked.push(denied);
          else add(check.category, row);
        }
        options.onProgress?.({ kind: "finished", category: check.category, results: rows });
        remaining[check.category] = (remaining[check.category] ?? 1) - 1;
        // Privilege findings are merged across categories at the end.
        if (remaining[check.category] === 0 && check.category !== "privileges") summarize(check.category);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, checks.length) }, worker));
    if (queue.length > 0) {
      add("connectivity", { check: "integrity run", status: "fail", detail: `interrupted: ${queue.length} of ${checks.length} checks not run` });
    }
  } catch (error) {
    add("connectivity", { check: "integrity run", status: "fail", detail: error instanceof Error ? error.message : String(error) });
  } finally {
    await coordinator.query("ROLLBACK").catch(() => undefined);
    await coordinator.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
  add("privileges", ...privilegeFindings(blocked, role));
  return { serverVersion, rowCounts, reached: true };
}

async function runOne(pool: Pool, check: PlannedCheck, statementTimeoutMs: number, snapshot: string | undefined): Promise<(CheckResult & Pick<CheckOutcome, "rowCount" | "blocked">)[]> {
  const started = performance.now();
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
    await begin(client, statementTimeoutMs, snapshot);
    const outcomes = await check.run(client);
    const durationMs = performance.now() - started;
    return outcomes.map((o) => ({ ...o, durationMs }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A privilege the catalog could not foresee (a column grant, a domain check's table): one
    // finding per privilege, merged with the planned ones.
    const privilege = (error as { code?: unknown }).code === "42501" ? privilegeOfError(message) : undefined;
    if (privilege) return [{ check: check.name, status: "skip", detail: message, blocked: { privilege, checks: [check.name] } }];
    const hint = /statement timeout/.test(message) ? ` (raise --statement-timeout above ${statementTimeoutMs} ms)` : "";
    return [{ check: check.name, status: "fail", detail: `${message}${hint}`, durationMs: performance.now() - started }];
  } finally {
    if (client) {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
    }
  }
}

const ORDER: readonly string[] = ["connectivity", "schema", "migrations", "amcheck", "privilege", "reference", "orphans", "check", "not null", "primary key", "unique", "index", "sequence", "rows", "domain", "integrity run"];

function amcheckRow(catalog: Awaited<ReturnType<typeof readCatalog>>): CheckResult | Blocked {
  const amcheck = catalog.amcheck;
  const indexes = plural(catalog.btreeIndexes.length, "B-tree index", "B-tree indexes");
  if (amcheck.installed && amcheck.executable) return { check: "amcheck", status: "pass", detail: `bt_index_check on ${indexes}` };
  if (amcheck.installed) {
    return { privilege: `EXECUTE on function ${amcheck.function}(regclass, boolean)`, checks: [`the structure of ${indexes} (amcheck)`] };
  }
  return {
    check: "amcheck",
    status: "warn",
    detail: amcheck.available
      ? "amcheck is available but not installed here; index structure is not verified (CREATE EXTENSION amcheck as an admin to enable it)"
      : "amcheck is not available on this server; index structure is not verified",
  };
}

/**
 * The report: rows in check order, the summary and the exit code. A database that could not be
 * reached at all is exit 3 (nothing could be checked: an outage or a wrong URL, not a violation),
 * still `passed: false`.
 */
function finish(results: IntegrityResult[], serverVersion: string | undefined, rowCounts: Record<string, number>, reached: boolean): IntegrityReport {
  const rank = (r: CheckResult) => {
    const i = ORDER.findIndex((prefix) => r.check.startsWith(prefix));
    return i < 0 ? ORDER.length : i;
  };
  const sorted = [...results].sort((a, b) => rank(a) - rank(b) || a.check.localeCompare(b.check));
  const failed = sorted.filter((r) => r.status === "fail").length;
  const warnings = sorted.filter((r) => r.status === "warn").length;
  const skipped = sorted.filter((r) => r.status === "skip").length;
  const firstFailures = sorted.filter((r) => r.status === "fail").slice(0, 3).map((r) => r.check);
  const incomplete = skipped > 0 ? `, ${skipped} not checked` : "";
  const summary = `${plural(sorted.length, "check")}, ${failed} failed${incomplete}, ${plural(warnings, "warning")}${firstFailures.length ? `: ${firstFailures.join("; ")}` : ""}`;
  const exitCode = (reached ? exitCodeFor(sorted) : 3) as IntegrityReport["exitCode"];
  return { passed: exitCode === 0, exitCode, serverVersion, rowCounts, results: sorted, summary };
}
