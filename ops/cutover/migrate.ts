import { createHash } from "node:crypto";
import { once } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";
import { finished } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { Client } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { planChecks, readCatalog } from "../integrity/checks";
import type { CheckResult } from "../lib/report";
import { loadDomainChecks, normalizeScalar, type DomainCheck } from "./domain-checks";
import { buildPlan, PRISMA_MIGRATIONS_TABLE, renderPlan, type ColumnPlan, type MigrationPlan, type TablePlan } from "./plan";
import { quoteIdent, readTargetSchema } from "./postgres";
import { describeChange, fileState, snapshotSqlite } from "./snapshot";
import { resolveDatetimeUnits } from "./datetime-units";
import { isSqliteInternal, openSqlite, readSqliteSchema, rowAt, rowName, sqliteForeignKeyViolations, sqliteScalar, tableRows, type SourceColumn, type SqliteDatabase } from "./sqlite";
import { addLineHash, checksumText, escapeCopyText, toPostgresText, type ColumnType, type EpochUnit, type SqliteValue, type TargetKind } from "./values";

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

const fail = (check: string, detail: string): CheckResult => ({ check, status: "fail", detail });

interface TableLoad {
  table: TablePlan;
  rows: number;
  /** The columns hashed as sent (every column but jsonb text), in COPY order. */
  plain: ColumnPlan[];
  /** SHA-256 of the plain columns' COPY text sent, in order. */
  sha256: string;
  /** The jsonb columns sent as the source's JSON text, hashed in PostgreSQL's form off the critical path. */
  jsonb?: DeferredJsonb;
}

const COPY_CHUNK_CHARS = 1 << 18;
/**
 * Which COPY escaping a kind's output text needs: text can hold any character; jsonb_out and
 * bytea's hex output escape control characters themselves, so only their backslashes need doubling;
 * numbers, booleans, dates and UUIDs hold none of COPY's special characters.
 */
const ESCAPE_BY_KIND: Record<TargetKind, "text" | "backslash" | "none"> = {
  text: "text",
  char: "text",
  json: "text",
  jsonb: "backslash",
  bytea: "backslash",
  integer: "none",
  numeric: "none",
  float4: "none",
  float8: "none",
  boolean: "none",
  timestamp: "none",
  timestamptz: "none",
  date: "none",
  uuid: "none",
};

function backslashes(text: string): string {
  return text.includes("\\") ? text.replaceAll("\\", "\\\\") : text;
}

/** Targets whose values may be integers beyond 2^53 that must arrive exactly. */
const EXACT_INTEGER_KINDS: ReadonlySet<TargetKind> = new Set(["integer", "numeric", "text", "char", "json", "jsonb"]);

function sourceColumnsOf(columns: readonly ColumnPlan[]): SourceColumn[] {
  return columns.map((c) => ({ name: c.source, exactIntegers: EXACT_INTEGER_KINDS.has(c.type.kind), textAsBytes: c.type.kind === "bytea" }));
}

function columnList(columns: readonly ColumnPlan[]): string {
  return columns.map((c) => quoteIdent(c.name)).join(", ");
}

function fieldOf(table: TablePlan, column: ColumnPlan, rowid: SqliteValue, position: number, value: SqliteValue): string | null {
  try {
    return toPostgresText(column.type, value);
  } catch (error) {
    throw new Error(`${table.source}.${column.source}, ${rowName(rowid, position)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * jsonb values whose source text is sent as it is (PostgreSQL parses it on the other core) while
 * the text jsonb_out will print for it, which the checksum needs, is computed in order into a
 * SHA-256 whenever the load waits for PostgreSQL and during the read-back: reproducing jsonb_out
 * took ~40% of the JavaScript time per row, enough to make the load wait on this process.
 */
class DeferredJsonb {
  private readonly values: SqliteValue[] = [];
  private readonly rowids: SqliteValue[] = [];
  private next = 0;
  private chunk = "";
  private readonly hash = createHash("sha256");

  constructor(
    private readonly table: TablePlan,
    readonly columns: readonly ColumnPlan[],
  ) {}

  /** Starts a row: its rowid names it in an error raised while its values are hashed later. */
  startRow(rowid: SqliteValue): void {
    this.rowids.push(rowid);
  }

  push(value: SqliteValue): void {
    this.values.push(value);
  }

  /** Hashes up to `limit` more values; false once none is left. */
  step(limit: number): boolean {
    const width = this.columns.length;
    const end = Math.min(this.values.length, this.next + limit);
    for (; this.next < end; this.next += 1) {
      const at = this.next;
      const column = at % width;
      const row = Math.floor(at / width);
      const text = fieldOf(this.table, this.columns[column] as ColumnPlan, this.rowids[row] ?? null, row + 1, this.values[at] ?? null);
      // Each value is needed once: dropping it keeps memory flat while the load runs ahead.
      this.values[at] = null;
      if (column === width - 1) this.rowids[row] = null;
      const field = text === null ? "\\N" : backslashes(text);
      this.chunk += column === 0 ? field : `\t${field}`;
      if (column === width - 1) this.chunk += "\n";
      if (this.chunk.length >= COPY_CHUNK_CHARS) {
        this.hash.update(this.chunk, "utf8");
        this.chunk = "";
      }
    }
    return this.next < this.values.length;
  }

  /** The SHA-256 of every value's COPY TO text, yielding between batches so a read-back keeps flowing. */
  async digest(): Promise<string> {
    while (this.step(DEFERRED_BATCH)) await nextTurn();
    this.hash.update(this.chunk, "utf8");
    this.chunk = "";
    return this.hash.digest("hex");
  }
}

const DEFERRED_BATCH = 2000;

/** Waits for the COPY stream to drain, hashing deferred jsonb values meanwhile. */
async function drain(stream: NodeJS.WritableStream, jsonb: DeferredJsonb | undefined): Promise<void> {
  let drained = false;
  const drainedOrFailed = once(stream, "drain").finally(() => {
    drained = true;
  });
  drainedOrFailed.catch(() => undefined);
  if (jsonb) while (!drained && jsonb.step(DEFERRED_BATCH)) await nextTurn();
  await drainedOrFailed;
}

/** Each SQLite row of `table` as one COPY text line of PostgreSQL's own output text (no newline). */
function* sourceLines(db: SqliteDatabase, table: TablePlan): Generator<string> {
  const types: ColumnType[] = table.columns.map((c) => c.type);
  const escapes = types.map((t) => ESCAPE_BY_KIND[t.kind]);
  const fields: string[] = new Array<string>(types.length);
  let rows = 0;
  for (const row of tableRows(db, { name: table.source, hasRowid: table.hasRowid }, sourceColumnsOf(table.columns))) {
    rows += 1;
    for (let i = 0; i < types.length; i += 1) {
      const text = fieldOf(table, table.columns[i] as ColumnPlan, row[0] ?? null, rows, row[i + 1] ?? null);
      fields[i] = text === null ? "\\N" : escapes[i] === "text" ? escapeCopyText(text) : escapes[i] === "backslash" ? backslashes(text) : text;
    }
    let line = fields[0] as string;
    for (let i = 1; i < fields.length; i += 1) line += `\t${fields[i]}`;
    yield line;
  }
}

/**
 * Streams one table into COPY FROM STDIN, hashing the exact bytes sent for every column but jsonb
 * (SHA-256, in order): a freshly loaded table reads back in load order, so a byte-identical COPY TO
 * proves every value. jsonb columns go last and are hashed in PostgreSQL's form (DeferredJsonb).
 */
async function copyTable(client: Client, db: SqliteDatabase, schema: string, table: TablePlan): Promise<TableLoad> {
  const plain = table.columns.filter((c) => c.type.kind !== "jsonb");
  const deferredColumns = table.columns.filter((c) => c.type.kind === "jsonb");
  const jsonb = deferredColumns.length > 0 ? new DeferredJsonb(table, deferredColumns) : undefined;
  const order = [...plain, ...deferredColumns];
  const plainCount = plain.length;
  const escapes = order.map((c) => ESCAPE_BY_KIND[c.type.kind]);
  const sourceColumns = sourceColumnsOf(order);
  const source = { name: table.source, hasRowid: table.hasRowid };
  const stream = client.query(copyFrom(`COPY ${quoteIdent(schema)}.${quoteIdent(table.target)} (${columnList(order)}) FROM STDIN`));
  let copyError: Error | undefined;
  stream.on("error", (error: Error) => {
    copyError = error;
  });
  const hash = createHash("sha256");
  let rows = 0;
  let chunk = "";
  let plainChunk = "";
  try {
    for (const row of tableRows(db, source, sourceColumns)) {
      rows += 1;
      const rowid = row[0] ?? null;
      let line = "";
      for (let i = 0; i < plainCount; i += 1) {
        const text = fieldOf(table, order[i] as ColumnPlan, rowid, rows, row[i + 1] ?? null);
        const field = text === null ? "\\N" : escapes[i] === "text" ? escapeCopyText(text) : escapes[i] === "backslash" ? backslashes(text) : text;
        line = i === 0 ? field : `${line}\t${field}`;
      }
      if (jsonb) {
        plainChunk += `${line}\n`;
        jsonb.startRow(rowid);
        for (let i = plainCount; i < order.length; i += 1) {
          const value = row[i + 1] ?? null;
          // JSON text goes as it is (COPY-escaped); NUL and non-text values take the checked path now.
          const direct = typeof value === "string" && !value.includes("\u0000");
          const text = direct ? value : fieldOf(table, order[i] as ColumnPlan, rowid, rows, value);
          const field = text === null ? "\\N" : direct ? escapeCopyText(text) : backslashes(text);
          line = i === 0 ? field : `${line}\t${field}`;
          jsonb.push(value);
        }
      }
      chunk += `${line}\n`;
      if (chunk.length >= COPY_CHUNK_CHARS) {
        // Encoded once, for both the digest and the socket.
        const bytes = Buffer.from(chunk, "utf8");
        if (jsonb) {
          hash.update(plainChunk, "utf8");
          plainChunk = "";
        } else {
          hash.update(bytes);
        }
        const flushed = stream.write(bytes);
        chunk = "";
        if (copyError) throw copyError;
        if (!flushed) await drain(stream, jsonb);
      }
    }
    const bytes = Buffer.from(chunk, "utf8");
    hash.update(jsonb ? Buffer.from(plainChunk, "utf8") : bytes);
    stream.end(bytes);
    await finished(stream);
  } catch (error) {
    // destroy() sends CopyFail, so PostgreSQL aborts the COPY; wait for that before the ROLLBACK.
    if (!stream.destroyed) {
      stream.destroy(error instanceof Error ? error : new Error(String(error)));
      await finished(stream).catch(() => undefined);
    }
    throw isPostgresError(error) ? new Error(describeCopyError(db, source, order, sourceColumns, error)) : error;
  }
  return { table, rows, plain, sha256: hash.digest("hex"), ...(jsonb ? { jsonb } : {}) };
}

/** An error PostgreSQL reported (pg's DatabaseError: SQLSTATE code, DETAIL, CONTEXT). */
interface PostgresError extends Error {
  code: string;
  detail?: string;
  where?: string;
}

function isPostgresError(error: unknown): error is PostgresError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string" && "severity" in error;
}

function shorten(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}

/**
 * A COPY failure as the source row and column it came from: PostgreSQL's CONTEXT names the COPY
 * line (one line per row, in the order the source was read) and the column; the row is found again
 * by its position in the same scan of the unchanged snapshot.
 */
function describeCopyError(db: SqliteDatabase, table: { name: string; hasRowid: boolean }, order: readonly ColumnPlan[], sourceColumns: readonly SourceColumn[], error: PostgresError): string {
  const context = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(error.where ?? "");
  const detail = error.detail ? ` (DETAIL: ${error.detail})` : "";
  if (!context) return `PostgreSQL: ${error.message}${detail}`;
  const position = Number(context[1]);
  const row = rowAt(db, table, sourceColumns, position);
  const rowid = row ? rowName(row[0] ?? null, position) : `row ${position}`;
  const index = context[2] ? order.findIndex((c) => c.name === context[2]) : -1;
  const column = order[index];
  if (!column) return `${table.name}, ${rowid}: PostgreSQL: ${error.message}${detail}`;
  const value = row?.[index + 1];
  const shown = value === undefined ? "" : value === null ? ", value NULL" : value instanceof Uint8Array ? `, a ${value.length}-byte value` : `, value ${JSON.stringify(shorten(String(value)))}`;
  return `${table.name}.${column.source}, ${rowid}${shown}: PostgreSQL: ${error.message}${detail}`;
}

function copyOutSql(schema: string, table: TablePlan, columns: readonly ColumnPlan[]): string {
  return `COPY (SELECT ${columnList(columns)} FROM ${quoteIdent(schema)}.${quoteIdent(table.target)}) TO STDOUT`;
}

/** Columns of the loaded table read back with COPY TO (pinned output settings): their SHA-256 and line count. */
async function targetDigest(client: Client, schema: string, table: TablePlan, columns: readonly ColumnPlan[]): Promise<{ rows: number; sha256: string }> {
  const hash = createHash("sha256");
  let rows = 0;
  for await (const chunk of client.query(copyTo(copyOutSql(schema, table, columns)))) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) rows += 1;
  }
  return { rows, sha256: hash.digest("hex") };
}

/**
 * The order-independent comparison, run only when the in-order digests differ (e.g. a target table
 * that had free space from deleted rows stores new rows out of load order): a 64-bit hash per
 * line, summed, on both sides.
 */
async function unorderedChecksums(client: Client, db: SqliteDatabase, schema: string, table: TablePlan): Promise<{ source: string; target: string }> {
  const sourceSums: [number, number] = [0, 0];
  for (const line of sourceLines(db, table)) addLineHash(line, sourceSums);
  const decoder = new StringDecoder("utf8");
  const targetSums: [number, number] = [0, 0];
  let rest = "";
  for await (const chunk of client.query(copyTo(copyOutSql(schema, table, table.columns)))) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      addLineHash(text.slice(start, end), targetSums);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  return { source: checksumText(sourceSums), target: checksumText(targetSums) };
}

async function runDomainChecks(client: Client, db: SqliteDatabase, checks: readonly DomainCheck[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const name = `domain: ${check.name}`;
    const started = performance.now();
    try {
      // A savepoint keeps a failing query from aborting the migration's transaction.
      await client.query("SAVEPOINT domain_check");
      if ("sql" in check) {
        const result = await client.query({ text: check.sql, rowMode: "array" });
        await client.query("RELEASE SAVEPOINT domain_check");
        const sample = result.rows.slice(0, 3).map((r) => JSON.stringify(r)).join(", ");
        results.push({
          check: name,
          status: result.rows.length === 0 ? "pass" : "fail",
          detail: result.rows.length === 0 ? "no violating rows" : `${result.rows.length} violating row(s), e.g. ${sample}`,
          durationMs: performance.now() - started,
        });
        continue;
      }
      const result = await client.query({ text: check.target, rowMode: "array" });
      await client.query("RELEASE SAVEPOINT domain_check");
      if (result.rows.length !== 1 || result.fields.length !== 1) throw new Error(`target query returned ${result.rows.length} row(s) of ${result.fields.length} column(s); expected one value`);
      const target = normalizeScalar((result.rows[0] as unknown[])[0]);
      const expected = check.source !== undefined ? normalizeScalar(sqliteScalar(db, check.source)) : normalizeScalar(check.expect);
      const side = check.source !== undefined ? "source" : "expected";
      results.push({
        check: name,
        status: target === expected ? "pass" : "fail",
        detail: `${side} ${expected}, target ${target}`,
        durationMs: performance.now() - started,
      });
    } catch (error) {
      await client.query("ROLLBACK TO SAVEPOINT domain_check").catch(() => undefined);
      results.push({ ...fail(name, error instanceof Error ? error.message : String(error)), durationMs: performance.now() - started });
    }
  }
  return results;
}

/** Orphans per foreign key of every loaded table, with ops/integrity's set-based check, in this transaction. */
async function orphanChecks(client: Client, schema: string, loaded: ReadonlySet<string>): Promise<CheckResult[]> {
  const catalog = await readCatalog(client);
  const scoped = {
    ...catalog,
    tables: [],
    unvalidated: [],
    uniqueIndexes: [],
    btreeIndexes: [],
    sequences: [],
    foreignKeys: catalog.foreignKeys.filter((fk) => fk.childSchema === schema && loaded.has(fk.child)),
  };
  const planned = planChecks(scoped, {
    expectedTables: [],
    migrationsTable: `${schema}.${PRISMA_MIGRATIONS_TABLE}`,
    domainChecks: [],
    referenceCounts: undefined,
    tolerancePercent: 0,
    heapAllIndexed: false,
  }).filter((c) => c.category === "foreign keys");
  const results: CheckResult[] = [];
  for (const check of planned) {
    const started = performance.now();
    for (const outcome of await check.run(client)) results.push({ check: outcome.check, status: outcome.status, detail: outcome.detail, durationMs: performance.now() - started });
  }
  return results;
}

export async function migrateSqliteToPostgres(options: CutoverOptions): Promise<CutoverReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const dryRun = options.dryRun ?? false;
  const schema = options.schema ?? schemaFromUrl(options.databaseUrl) ?? "public";
  const results: CheckResult[] = [];
  const snapshot = await snapshotSqlite(options.sqlitePath, dryRun ? undefined : (options.snapshotDir ?? "cutover-snapshots"));
  const snapshotMs = performance.now() - started;
  results.push({
    check: "snapshot",
    status: "info",
    detail: snapshot.path
      ? `${snapshot.path} (${snapshot.state.size} bytes, sha256 ${snapshot.state.sha256}); verify it with: ${snapshot.verifyCommand}`
      : `dry run, not copied (${snapshot.state.size} bytes, sha256 ${snapshot.state.sha256})`,
  });
  const report: CutoverReport = {
    sqlite: options.sqlitePath,
    snapshot: {
      ...(snapshot.path ? { path: snapshot.path, checksumPath: snapshot.checksumPath, verifyCommand: snapshot.verifyCommand } : {}),
      sha256: snapshot.state.sha256,
      size: snapshot.state.size,
    },
    results,
    committed: false,
    dryRun,
    rows: 0,
    timings: { snapshotMs, loadMs: 0, validateMs: 0, totalMs: 0 },
  };
  const done = () => {
    report.timings.totalMs = performance.now() - started;
    return report;
  };

  const db = openSqlite(snapshot.readPath);
  const client = new Client({ connectionString: options.databaseUrl });
  // A connection lost between statements surfaces as the next statement's error, not a crash.
  client.on("error", () => undefined);
  try {
    const source = readSqliteSchema(db);
    await client.connect();
    const target = await readTargetSchema(client, schema);
    if (target.tables.size === 0) {
      results.push(fail("plan", `PostgreSQL schema "${schema}" has no tables: run the application's migrations (prisma migrate deploy) against it first`));
      return done();
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
    if (plan.tables.length === 0 && !options.allowEmpty) {
      const held = source.tables.filter((t) => !isSqliteInternal(t.name)).map((t) => t.name);
      plan.problems.push(
        `${options.sqlitePath} (${snapshot.state.size} bytes) has none of the ${[...target.tables.keys()].filter((t) => t !== PRISMA_MIGRATIONS_TABLE).length} tables of PostgreSQL schema "${schema}" ` +
          `(${held.length === 0 ? "it holds no tables at all" : `it holds ${held.join(", ")}`}): is --sqlite the right path? A wrong relative path makes SQLite create an empty database. ` +
          "Pass --allow-empty to migrate it anyway",
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
    let domainChecks: DomainCheck[] = [];
    if (options.domainChecksFile) {
      try {
        domainChecks = await loadDomainChecks(options.domainChecksFile);
        results.push({ check: "domain checks file", status: "info", detail: `${domainChecks.length} check(s) from ${options.domainChecksFile}` });
      } catch (error) {
        results.push(fail("domain checks file", error instanceof Error ? error.message : String(error)));
      }
    }

    const nonEmpty: string[] = [];
    for (const table of plan.tables) {
      const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(table.target)}) AS any`);
      if (rows[0]?.any) nonEmpty.push(table.target);
    }
    if (nonEmpty.length > 0) {
      const detail = `${nonEmpty.join(", ")} already hold rows`;
      if (options.truncate) results.push({ check: "target empty", status: "warn", detail: `${detail}; --truncate empties them inside the transaction` });
      else results.push(fail("target empty", `${detail}; refusing to mix data. Pass --truncate to replace them (inside the same transaction)`));
    } else {
      results.push({ check: "target empty", status: "pass", detail: `${plan.tables.length} target tables are empty` });
    }
    if (dryRun || results.some((r) => r.status === "fail")) return done();

    const loadStarted = performance.now();
    await client.query("BEGIN");
    try {
      const loads = await load(client, db, plan, options.truncate === true, log);
      report.rows = loads.reduce((sum, l) => sum + l.rows, 0);
      report.timings.loadMs = performance.now() - loadStarted;
      const validateStarted = performance.now();
      results.push(...(await validate(client, db, plan, loads, domainChecks)));
      if (!results.some((r) => r.status === "fail")) {
        await options.beforeFinalCheck?.();
        const now = await fileState(options.sqlitePath).catch((error: Error) => ({ error }));
        const change = "error" in now ? `cannot read it any more (${now.error.message})` : describeChange(snapshot.state, now);
        results.push(
          change === undefined
            ? { check: "source unchanged", status: "pass", detail: `${options.sqlitePath} still matches the snapshot (sha256 ${snapshot.state.sha256.slice(0, 12)}...)` }
            : fail("source unchanged", `${options.sqlitePath} changed during the run (${change}): writes to the old environment were not stopped`),
        );
      }
      report.timings.validateMs = performance.now() - validateStarted;
      if (results.some((r) => r.status === "fail")) {
        await client.query("ROLLBACK");
        results.push(fail("transaction", "rolled back: PostgreSQL is unchanged. Keep production on the previous release"));
        return done();
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
    return done();
  } finally {
    db.close();
    await client.end().catch(() => undefined);
  }
}

async function load(client: Client, db: SqliteDatabase, plan: MigrationPlan, truncate: boolean, log: (line: string) => void): Promise<TableLoad[]> {
  const schema = plan.schema;
  const qualified = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  // Pin every setting an output function reads, so the text COPY TO returns is the text load sent.
  // No synchronized or parallel scans, so a freshly loaded table reads back in load order.
  const settings = ["TimeZone = 'UTC'", "DateStyle = 'ISO, YMD'", "extra_float_digits = 1", "bytea_output = 'hex'", "synchronize_seqscans = off", "max_parallel_workers_per_gather = 0"];
  for (const setting of settings) {
    await client.query(`SET LOCAL ${setting}`);
  }
  if (truncate && plan.tables.length > 0) await client.query(`TRUNCATE ${plan.tables.map((t) => qualified(t.target)).join(", ")}`);
  // A key inside a cycle (e.g. Comment.parentId -> Comment.id) cannot be satisfied row by row: check it at the end instead.
  const altered = plan.cyclicKeys.filter((k) => !k.deferrable);
  for (const key of altered) await client.query(`ALTER TABLE ${qualified(key.table)} ALTER CONSTRAINT ${quoteIdent(key.name)} DEFERRABLE INITIALLY DEFERRED`);
  for (const key of plan.cyclicKeys) await client.query(`SET CONSTRAINTS ${quoteIdent(schema)}.${quoteIdent(key.name)} DEFERRED`);

  const loads: TableLoad[] = [];
  for (const table of plan.tables) {
    const started = performance.now();
    try {
      loads.push(await copyTable(client, db, schema, table));
    } catch (error) {
      throw new Error(`copying ${table.source} into ${table.target}: ${error instanceof Error ? error.message : String(error)}`);
    }
    log(`copied ${table.source} -> ${table.target}: ${loads.at(-1)?.rows} rows in ${Math.round(performance.now() - started)} ms`);
  }
  await client.query("SET CONSTRAINTS ALL IMMEDIATE");
  for (const key of altered) await client.query(`ALTER TABLE ${qualified(key.table)} ALTER CONSTRAINT ${quoteIdent(key.name)} NOT DEFERRABLE`);
  return loads;
}

async function validate(client: Client, db: SqliteDatabase, plan: MigrationPlan, loads: readonly TableLoad[], domainChecks: readonly DomainCheck[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const { table, rows, plain, sha256, jsonb } of loads) {
    const started = performance.now();
    // The jsonb digest is finished while PostgreSQL prints the read-back on the other core.
    const source = jsonb?.digest().then(
      (digest) => ({ digest }),
      (error: unknown) => ({ error }),
    );
    const target = plain.length > 0 ? await targetDigest(client, plan.schema, table, plain) : undefined;
    const targetJsonb = jsonb ? await targetDigest(client, plan.schema, table, jsonb.columns) : undefined;
    const sourceJsonb = await source;
    if (sourceJsonb && "error" in sourceJsonb) throw sourceJsonb.error;
    const targetRows = target?.rows ?? targetJsonb?.rows ?? 0;
    results.push({
      check: `rows: ${table.target}`,
      status: targetRows === rows && rows === table.rows && (targetJsonb === undefined || targetJsonb.rows === rows) ? "pass" : "fail",
      detail: `source ${table.rows} (streamed ${rows}), target ${targetRows}`,
      durationMs: performance.now() - started,
    });
    const check = `checksum: ${table.target}`;
    const plainSame = target === undefined || target.sha256 === sha256;
    const jsonbSame = targetJsonb === undefined || targetJsonb.sha256 === sourceJsonb?.digest;
    if (plainSame && jsonbSame) {
      const digests = [target ? `sha256 ${sha256.slice(0, 16)}...` : "", targetJsonb ? `jsonb sha256 ${targetJsonb.sha256.slice(0, 16)}...` : ""].filter((d) => d !== "").join(", ");
      results.push({ check, status: "pass", detail: `${table.columns.length} columns, byte-identical in load order (${digests})`, durationMs: performance.now() - started });
      continue;
    }
    const unordered = await unorderedChecksums(client, db, plan.schema, table);
    const same = unordered.source === unordered.target;
    results.push({
      check,
      status: same ? "pass" : "fail",
      detail: same
        ? `${table.columns.length} columns match as a set of rows (stored out of load order; sum of line hashes ${unordered.source})`
        : `source ${unordered.source}, target ${unordered.target}: stored values differ from the source (a trigger, a default or a type PostgreSQL prints differently?)`,
      durationMs: performance.now() - started,
    });
  }
  results.push(...(await orphanChecks(client, plan.schema, new Set(plan.tables.map((t) => t.target)))));
  results.push(...(await runDomainChecks(client, db, domainChecks)));
  return results;
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
           FROM (SELECT max(${quoteIdent(column)}) AS max FROM ${quoteIdent(schema)}.${quoteIdent(table.target)}) m
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
