import initSqlJs, { type Database, type SqlValue } from "sql.js";
import type { SqliteValue } from "./values";

/**
 * The SQLite side, read with sql.js: SQLite compiled to WebAssembly, shipped inside the npm package,
 * so `npm ci` on a fresh machine needs no compiler, no prebuilt-binary download and no network
 * beyond the registry (better-sqlite3 needs one of those). Its costs: the whole file is loaded into
 * memory (fine for a dev.db; the benchmark reports peak RSS), and it reads more slowly than native
 * code. Rows are streamed with a prepared statement (`step()`), never materialized per table.
 */

export interface SqliteColumn {
  name: string;
  /** The declared type (an affinity in SQLite), e.g. "DATETIME", "BOOLEAN". */
  declaredType: string;
  notNull: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  primaryKey: number;
}

export interface SqliteForeignKey {
  /** The constraint's id in PRAGMA foreign_key_list (one id per multi-column key). */
  id: number;
  references: string;
  from: string[];
  to: string[];
}

export interface SqliteTable {
  name: string;
  columns: SqliteColumn[];
  foreignKeys: SqliteForeignKey[];
  rowCount: number;
}

/** Tables that are SQLite's own bookkeeping, never application data. */
export function isSqliteInternal(table: string): boolean {
  return table.startsWith("sqlite_");
}

export function quoteSqlite(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function openSqlite(bytes: Uint8Array): Promise<Database> {
  const SQL = await initSqlJs();
  return new SQL.Database(bytes);
}

function all(db: Database, sql: string): SqlValue[][] {
  const statement = db.prepare(sql);
  try {
    const rows: SqlValue[][] = [];
    while (statement.step()) rows.push(statement.get());
    return rows;
  } finally {
    statement.free();
  }
}

/** Every table from sqlite_master with its columns (PRAGMA table_info), foreign keys and row count. */
export function readSqliteSchema(db: Database): SqliteTable[] {
  const names = all(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((row) => String(row[0]));
  return names.map((name) => {
    const columns = all(db, `PRAGMA table_info(${quoteSqlite(name)})`).map(
      ([, column, type, notNull, , pk]): SqliteColumn => ({
        name: String(column),
        declaredType: String(type ?? ""),
        notNull: notNull === 1,
        primaryKey: Number(pk),
      }),
    );
    const keys = new Map<number, SqliteForeignKey>();
    for (const [id, , references, from, to] of all(db, `PRAGMA foreign_key_list(${quoteSqlite(name)})`)) {
      const key = keys.get(Number(id)) ?? { id: Number(id), references: String(references), from: [], to: [] };
      key.from.push(String(from));
      key.to.push(String(to ?? ""));
      keys.set(Number(id), key);
    }
    const rowCount = isSqliteInternal(name) ? 0 : Number(all(db, `SELECT count(*) FROM ${quoteSqlite(name)}`)[0]?.[0] ?? 0);
    return { name, columns, foreignKeys: [...keys.values()], rowCount };
  });
}

/** Rows violating a declared foreign key in the source (PRAGMA foreign_key_check), per table. */
export function sqliteForeignKeyViolations(db: Database): Map<string, number> {
  const violations = new Map<string, number>();
  for (const [table] of all(db, "PRAGMA foreign_key_check")) {
    violations.set(String(table), (violations.get(String(table)) ?? 0) + 1);
  }
  return violations;
}

const MAX_SAFE = "9007199254740991";

/** A column to stream, and whether its integers may need all 64 bits (integer, numeric and text targets). */
export interface SourceColumn {
  name: string;
  exactIntegers: boolean;
}

/**
 * The SELECT that streams `columns` of `table`. sql.js returns SQLite integers as JavaScript
 * doubles, so 9223372036854775807 would arrive as 9223372036854776000; its `useBigInt` option fixes
 * that but makes every integer a BigInt (measured ~1.7x slower reads). Instead, integers outside
 * +-(2^53-1) are cast to text inside SQLite, exact, in the columns whose target can hold them.
 */
export function selectSql(table: string, columns: readonly SourceColumn[]): string {
  const list = columns.map(({ name, exactIntegers }) => {
    const c = quoteSqlite(name);
    if (!exactIntegers) return c;
    return `CASE WHEN typeof(${c}) = 'integer' AND (${c} > ${MAX_SAFE} OR ${c} < -${MAX_SAFE}) THEN CAST(${c} AS TEXT) ELSE ${c} END`;
  });
  return `SELECT ${list.join(", ")} FROM ${quoteSqlite(table)}`;
}

/** Every row of `table`, one prepared-statement step at a time (the statement is freed on exit). */
export function* tableRows(db: Database, table: string, columns: readonly SourceColumn[]): Generator<SqliteValue[]> {
  const statement = db.prepare(selectSql(table, columns));
  try {
    while (statement.step()) yield statement.get();
  } finally {
    statement.free();
  }
}

/** sql.js's `get` with its config argument, which @types/sql.js does not declare. */
type GetWithConfig = (params: null, config: { useBigInt: boolean }) => (SqlValue | bigint)[];

/** Runs a domain-check query on the source; it must return exactly one value (integers exact, as BigInt). */
export function sqliteScalar(db: Database, sql: string): SqlValue | bigint {
  const statement = db.prepare(sql);
  try {
    const rows: (SqlValue | bigint)[][] = [];
    while (statement.step()) rows.push((statement.get as unknown as GetWithConfig).call(statement, null, { useBigInt: true }));
    if (rows.length !== 1 || rows[0]?.length !== 1) throw new Error(`source query returned ${rows.length} row(s); expected one row with one value`);
    return rows[0][0] ?? null;
  } finally {
    statement.free();
  }
}
