import * as path from "node:path";
import { Client, escapeIdentifier } from "pg";
import { redactUrl } from "../incident/errors";
import { CliError } from "../lib/cli";
import { readInputFile } from "../lib/inputFile";
import type { CheckResult } from "../lib/report";
import { load } from "./copy";
import { resolveDatetimeUnits } from "./datetime-units";
import { loadDomainChecks } from "./domain-checks";
import { buildPlan, PRISMA_MIGRATIONS_TABLE, renderPlan, type MigrationPlan } from "./plan";
import { readTargetSchema } from "./postgres";
import { assertNoSidecarFiles, checkSqliteFile, describeChange, discardSnapshot, fileStateAhead, snapshotSqlite, type FileState, type SqliteSnapshot } from "./snapshot";
import { isSqliteInternal, openSqlite, readSqliteSchema, sqliteForeignKeyViolations, type SqliteDatabase } from "./sqlite";
import { fail, validate } from "./validate";
import type { EpochUnit } from "./values";
import { connectClient } from "../lib/postgres";

/**
 * The runbook's "SQLite rollback fallback (cutover window)", steps 2-4: snapshot the SQLite file,
 * copy every table into the PostgreSQL schema the application's migrations created, and validate
 * counts, checksums, foreign keys and domain checks, all in ONE transaction that commits only when
 * every check passed ("If validation fails: keep production on previous release"): a failed run
 * leaves the target exactly as it was.
 */

export interface CutoverOptions {
  /** The Prisma SQLite database, e.g. backend/prisma/dev.db. */
  sqlitePath: string;
  /** The target PostgreSQL; a Prisma-style `?schema=` parameter selects the schema. */
  databaseUrl: string;
  /** @default the URL's `schema` parameter, else "public" */
  schema?: string;
  /** Empty the target tables first (inside the same transaction) instead of refusing. */
  truncate?: boolean;
  /** Print the plan and checks that need no writes; snapshot nothing, write nothing. */
  dryRun?: boolean;
  /** A YAML/JSON file of domain checks (see domain-checks.ts). */
  domainChecksFile?: string;
  /** Where the snapshot and its .sha256 go. @default "cutover-snapshots" */
  snapshotDir?: string;
  /** Migrate a source that has none of the target's tables (otherwise refused: a wrong path makes SQLite create an empty file). */
  allowEmpty?: boolean;
  /** The epoch unit of integer DateTime columns, keyed by `Table.column` (SQLite names); others are decided from their values. */
  datetimeUnits?: ReadonlyMap<string, EpochUnit>;
  /** Runs after validation, right before the source file is re-checked and the transaction commits. */
  beforeFinalCheck?: () => Promise<void>;
  /** Progress lines (table by table). */
  log?: (line: string) => void;
}

export interface CutoverReport {
  sqlite: string;
  /** The copy and how to verify it; without `path` on a dry run and on a run that stopped before loading (then removed). */
  snapshot: { path?: string; checksumPath?: string; verifyCommand?: string; sha256: string; size: number };
  plan?: MigrationPlan;
  results: CheckResult[];
  committed: boolean;
  dryRun: boolean;
  rows: number;
  timings: { snapshotMs: number; loadMs: number; validateMs: number; totalMs: number };
}

/** `schema` from a Prisma-style URL (`?schema=app`), which pg itself ignores. */
export function schemaFromUrl(databaseUrl: string): string | undefined {
  try {
    return new URL(databaseUrl).searchParams.get("schema") ?? undefined;
  } catch {
    throw new Error("--database-url is not a URL; expected postgresql://user:password@host:5432/db");
  }
}

/** URL parameters naming files that pg reads while it parses the URL (a missing one is a bare ENOENT there). */
const URL_FILE_PARAMETERS = { sslcert: "a PEM client certificate", sslkey: "a PEM private key", sslrootcert: "PEM CA certificates" } as const;

/**
 * Connects to the target, or says where it could not and what to check, without the password.
 * @throws CliError, exit 2 when a file the URL names (`sslcert`, `sslkey`, `sslrootcert`) cannot be
 * read, naming the parameter; exit 3 (incomplete: nothing was done) when the target could not be
 * reached or refused the login
 */
async function connectTarget(databaseUrl: string): Promise<Client> {
  const parameters = new URL(databaseUrl).searchParams;
  for (const [name, holds] of Object.entries(URL_FILE_PARAMETERS)) {
    const file = parameters.get(name);
    if (file) readInputFile(`${name} in the database URL ${redactUrl(databaseUrl)} (--database-url or DATABASE_URL):`, file, holds);
  }
  try {
    return await connectClient({ connectionString: databaseUrl });
  } catch (error) {
    throw new CliError(
      `cannot connect to PostgreSQL at ${redactUrl(databaseUrl)} (--database-url or DATABASE_URL): ${error instanceof Error ? error.message : String(error)}; ` +
        "check the URL's host, port, database, user, password and TLS settings. Nothing was written",
      3,
    );
  }
}

/**
 * Refuses a target schema that does not exist, naming where its name came from and the schemas there are.
 * @param given how the user chose it: `--schema app`, the URL's `?schema=`, or the default
 * @throws CliError, exit 2 (bad usage)
 */
async function assertSchemaExists(client: Client, schema: string, given: string): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    "SELECT nspname AS name FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname",
  );
  if (rows.some((r) => r.name === schema)) return;
  throw new CliError(
    `${given}: the target database has no schema "${schema}" (it has ${rows.map((r) => r.name).join(", ") || "none"}); ` +
      "pass --schema with one of those, or create the schema by running the application's migrations (prisma migrate deploy) against it first",
  );
}

/**
 * Whether the SQLite file has a table of its own (the catalog alone is read, read-only).
 * @throws Error naming the file and the fix when SQLite cannot read its catalog (a damaged file)
 */
function holdsTables(sqlitePath: string): boolean {
  const db = openSqlite(sqlitePath);
  try {
    return (readDamaged(sqlitePath, () => db.all("SELECT name FROM sqlite_master WHERE type = 'table'")) as { name: string }[]).some((t) => !isSqliteInternal(t.name));
  } finally {
    db.close();
  }
}

/** Runs `read` on the SQLite file; an error SQLite raises reading it (a damaged page, a malformed schema) names the file and the fix. */
function readDamaged<T>(sqlitePath: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new Error(
      `--sqlite ${sqlitePath}: SQLite cannot read it (${error instanceof Error ? error.message : String(error)}): the file is damaged. ` +
        `Check it with: sqlite3 ${sqlitePath} "PRAGMA integrity_check", and use the last good copy of the database`,
    );
  }
}

/** Why a source with nothing to migrate is refused, with the path as resolved and the way past it. */
function nothingToMigrate(sqlitePath: string, why: string): string {
  return (
    `--sqlite ${sqlitePath}: ${why}, so there is nothing to migrate. Is it the right path (resolved as ${path.resolve(sqlitePath)})? ` +
    "A wrong relative path makes SQLite create an empty database. Pass --allow-empty to migrate it anyway"
  );
}

/**
 * Runs the cutover and returns its report; a failed check is a result (the transaction rolled back),
 * not an exception. A run that stops before it begins to load (a refusal in the plan, a non-empty
 * target, a thrown error) removes its snapshot and checksum file again, and its report has no
 * snapshot path; once loading began the snapshot is kept as the rollback's evidence.
 * @throws Error for bad input found before anything is written or connected (exit 2): a missing,
 * truncated or non-SQLite file, a source with nothing to migrate (unless `allowEmpty`), pending -wal
 * or -journal files, a bad checks file or snapshot folder, an unreadable `sslcert`/`sslkey`/
 * `sslrootcert` in the URL; after connecting (exit 2) a schema that does not exist or a
 * `datetimeUnits` key that names no timestamp or date column of the plan; CliError with exit 3 when
 * the target cannot be reached or refuses the login (nothing was written).
 */
export async function migrateSqliteToPostgres(options: CutoverOptions): Promise<CutoverReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const dryRun = options.dryRun ?? false;
  const urlSchema = schemaFromUrl(options.databaseUrl);
  const schema = options.schema ?? urlSchema ?? "public";
  const schemaGiven = options.schema ? `--schema ${schema}` : urlSchema ? `?schema=${schema} in the database URL (--database-url or DATABASE_URL)` : `schema ${schema} (the default)`;
  const results: CheckResult[] = [];
  const allowEmpty = options.allowEmpty ?? false;
  // A wrong file is bad input, refused before a snapshot is written or anything connects.
  const size = await checkSqliteFile(options.sqlitePath);
  if (!allowEmpty && size === 0) throw new Error(nothingToMigrate(options.sqlitePath, "it is empty (0 bytes)"));
  await assertNoSidecarFiles(options.sqlitePath);
  if (!allowEmpty && !holdsTables(options.sqlitePath)) throw new Error(nothingToMigrate(options.sqlitePath, "it holds no tables"));
  const domainChecks = options.domainChecksFile ? loadDomainChecks(options.domainChecksFile) : [];
  // The target is reached before the snapshot: a wrong URL or password costs no copy of the data.
  const client = await connectTarget(options.databaseUrl);
  // Everything below owns the connection and, once taken, the snapshot and its reader: `finally`
  // closes them and removes the snapshot of a run that stopped before it began to load.
  const opened: { db?: SqliteDatabase; snapshot?: SqliteSnapshot; loading?: boolean } = {};
  try {
    await assertSchemaExists(client, schema, schemaGiven);
    const snapshot = (opened.snapshot = await snapshotSqlite(options.sqlitePath, dryRun ? undefined : (options.snapshotDir ?? "cutover-snapshots")));
    const snapshotMs = performance.now() - started;
    const snapshotResult: CheckResult = { check: "snapshot", status: "info", detail: "" };
    results.push(snapshotResult);
    const report: CutoverReport = {
      sqlite: options.sqlitePath,
      snapshot: {
        ...(snapshot.path ? { path: snapshot.path, checksumPath: snapshot.checksumPath, verifyCommand: snapshot.verifyCommand } : {}),
        sha256: "",
        size: 0,
      },
      results,
      committed: false,
      dryRun,
      rows: 0,
      timings: { snapshotMs, loadMs: 0, validateMs: 0, totalMs: 0 },
    };
    // The snapshot is hashed and checked on another thread while the schema is read; its state is recorded once.
    let recorded: Promise<FileState> | undefined;
    const snapshotState = () =>
      (recorded ??= snapshot.hashed.then((state) => {
        report.snapshot.sha256 = state.sha256;
        report.snapshot.size = state.size;
        snapshotResult.detail = snapshot.path
          ? `${snapshot.path} (${state.size} bytes, sha256 ${state.sha256}); verify it with: ${snapshot.verifyCommand}`
          : `dry run, not copied (${state.size} bytes, sha256 ${state.sha256})`;
        return state;
      }));
    const done = async () => {
      const state = await snapshotState();
      if (snapshot.path && !opened.loading) {
        // `finally` removes the files: nothing was loaded, so there is nothing to roll back from them.
        report.snapshot = { sha256: state.sha256, size: state.size };
        snapshotResult.detail = `${snapshot.path} and its .sha256 removed: the run stopped before loading any row, so ${options.sqlitePath} and PostgreSQL are as they were (${state.size} bytes, sha256 ${state.sha256})`;
      }
      report.timings.totalMs = performance.now() - started;
      return report;
    };

    const db = (opened.db = openSqlite(snapshot.readPath));
    const source = readDamaged(options.sqlitePath, () => readSqliteSchema(db));
    const target = await readTargetSchema(client, schema);
    if (target.tables.size === 0) {
      results.push(fail("plan", `PostgreSQL schema "${schema}" has no tables: run the application's migrations (prisma migrate deploy) against it first`));
      return await done();
    }
    const plan = buildPlan(source, target);
    report.plan = plan;
    const units = resolveDatetimeUnits(db, plan.tables, options.datetimeUnits ?? new Map());
    for (const table of plan.tables) {
      for (const column of table.columns) {
        const note = units.notes.get(`${table.source}.${column.source}`);
        if (note) column.note = note;
      }
    }
    plan.problems.push(...units.problems);
    const sourceState = await snapshotState();
    if (plan.tables.length === 0 && !allowEmpty) {
      const held = source.tables.filter((t) => !isSqliteInternal(t.name)).map((t) => t.name);
      plan.problems.push(
        `${options.sqlitePath} has none of the ${[...target.tables.keys()].filter((t) => t !== PRISMA_MIGRATIONS_TABLE).length} tables of PostgreSQL schema "${schema}" ` +
          `(it holds ${held.join(", ")}): is --sqlite the right path? Pass --allow-empty to migrate it anyway`,
      );
    }
    log(renderPlan(plan));
    const totalRows = plan.tables.reduce((sum, t) => sum + t.rows, 0);
    results.push(...(plan.problems.length === 0 ? [{ check: "plan", status: "pass" as const, detail: `${plan.tables.length} tables, ${totalRows} rows, parents first` }] : plan.problems.map((p) => fail("plan", p))));

    const violations = sqliteForeignKeyViolations(db, plan.tables.map((t) => t.source));
    for (const table of plan.tables) {
      const bad = violations.get(table.source);
      if (bad) results.push(fail(`source foreign keys: ${table.source}`, `${bad} row(s) in the SQLite source reference missing rows (PRAGMA foreign_key_check); fix the source, PostgreSQL would reject them`));
    }
    if (options.domainChecksFile) results.push({ check: "domain checks file", status: "info", detail: `${domainChecks.length} check(s) from ${options.domainChecksFile}` });

    const nonEmpty: string[] = [];
    for (const table of plan.tables) {
      const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${escapeIdentifier(schema)}.${escapeIdentifier(table.target)}) AS any`);
      if (rows[0]?.any) nonEmpty.push(table.target);
    }
    if (nonEmpty.length > 0) {
      const detail = `${nonEmpty.join(", ")} already hold rows`;
      if (options.truncate) results.push({ check: "target empty", status: "warn", detail: `${detail}; --truncate empties them inside the transaction` });
      else results.push(fail("target empty", `${detail}; refusing to mix data. Pass --truncate to replace them (inside the same transaction)`));
    } else {
      results.push({ check: "target empty", status: "pass", detail: `${plan.tables.length} target tables are empty` });
    }
    if (dryRun || results.some((r) => r.status === "fail")) return await done();

    const loadStarted = performance.now();
    // From here on the snapshot is kept: it is what the rollback procedure restores and verifies.
    opened.loading = true;
    await client.query("BEGIN");
    try {
      const loads = await load(client, db, plan, options.truncate === true, log);
      report.rows = loads.reduce((sum, l) => sum + l.rows, 0);
      report.timings.loadMs = performance.now() - loadStarted;
      const validateStarted = performance.now();
      // The source is hashed on another thread while PostgreSQL prints the read-back.
      const finalState = await fileStateAhead(options.sqlitePath).catch((error: Error) => () => Promise.reject(error));
      const partitioned = new Set([...target.tables.values()].filter((t) => t.partitioned).map((t) => t.name));
      results.push(...(await validate(client, db, plan, loads, domainChecks, partitioned)));
      if (!results.some((r) => r.status === "fail")) {
        await options.beforeFinalCheck?.();
        const now = await finalState().catch((error: Error) => ({ error }));
        // In WAL mode the old environment's writes land in the -wal, leaving the main file as it was.
        const walWrites = await assertNoSidecarFiles(options.sqlitePath).then(
          () => undefined,
          (error: Error) => error.message,
        );
        const change = "error" in now ? `cannot read it any more (${now.error.message})` : (describeChange(sourceState, now) ?? walWrites);
        results.push(
          change === undefined
            ? { check: "source unchanged", status: "pass", detail: `${options.sqlitePath} still matches the snapshot (sha256 ${sourceState.sha256.slice(0, 12)}...)` }
            : fail("source unchanged", `${options.sqlitePath} changed during the run (${change}): writes to the old environment were not stopped`),
        );
      }
      report.timings.validateMs = performance.now() - validateStarted;
      if (results.some((r) => r.status === "fail")) {
        await client.query("ROLLBACK");
        results.push(fail("transaction", "rolled back: PostgreSQL is unchanged. Keep production on the previous release"));
        return await done();
      }
      // setval is not transactional, so sequences move only once nothing else can fail before COMMIT.
      results.push(...(await resetSequences(client, schema, plan)));
      await client.query("COMMIT");
      report.committed = true;
      results.push({ check: "transaction", status: "pass", detail: `committed ${report.rows} rows in ${plan.tables.length} tables` });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      results.push(fail("transaction", `rolled back: ${error instanceof Error ? error.message : String(error)}`));
    }
    return await done();
  } finally {
    opened.db?.close();
    await client.end().catch(() => undefined);
    if (opened.snapshot && !opened.loading) await discardSnapshot(opened.snapshot);
  }
}

async function resetSequences(client: Client, schema: string, plan: MigrationPlan): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const table of plan.tables) {
    for (const { column, sequence, sqliteSeq } of table.sequences) {
      // sqlite_sequence can be past max(id) after deletions: ids up to it were handed out already
      // (invoice numbers, ids in emails and URLs) and must never be issued again.
      const { rows } = await client.query<{ next: string; max: string | null }>(
        `SELECT (CASE WHEN h.high IS NULL THEN setval($1::regclass, s.seqstart, false)
                      ELSE setval($1::regclass, h.high, true) + s.seqincrement END)::text AS next,
                m.max::text AS max
           FROM (SELECT max(${escapeIdentifier(column)}) AS max FROM ${escapeIdentifier(schema)}.${escapeIdentifier(table.target)}) m
           CROSS JOIN LATERAL (SELECT GREATEST(m.max, $2::bigint) AS high) h
           JOIN pg_sequence s ON s.seqrelid = $1::regclass`,
        [sequence, sqliteSeq ?? null],
      );
      const seq = sqliteSeq === undefined ? "" : `, SQLite sqlite_sequence ${sqliteSeq}`;
      results.push({ check: `sequence: ${sequence}`, status: "pass", detail: `next value ${rows[0]?.next} (${table.target}.${column} max ${rows[0]?.max ?? "none"}${seq})` });
    }
  }
  return results;
}
