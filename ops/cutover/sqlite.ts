import { isUtf8 } from "node:buffer";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { Database as WasmDatabase, SQLiteValue as WasmValue } from "node-sqlite3-wasm";
import { firstInvalidUtf8, showBytes } from "./utf8";
import type { SqliteValue } from "./values";

/**
 * The SQLite side, read with node-sqlite3-wasm: SQLite compiled to WebAssembly with a VFS over
 * node:fs, so pages are read from disk as SQLite needs them (a 2 GB file never sits in memory) and
 * `npm ci` needs no compiler, no prebuilt-binary download and no network beyond the registry
 * (better-sqlite3 needs one of those). It ships FTS5, so virtual tables can be listed and skipped.
 *
 * Rows are stepped through the library's exported `sqlite3_*` functions rather than its
 * `Statement.iterate()`, which builds an object per row, turns every integer into a BigInt and
 * decodes text leniently (invalid UTF-8 becomes U+FFFD without a word). Text is read as the raw
 * bytes SQLite stored and decoded strictly, so a Latin-1 byte in a TEXT value is an error naming
 * the row, never a silent replacement character.
 */

export interface SqliteColumn {
  name: string;
  /** The declared type (an affinity in SQLite), e.g. "DATETIME", "BOOLEAN". */
  declaredType: string;
  notNull: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  primaryKey: number;
  /** A generated column (PRAGMA table_xinfo's hidden 2 = VIRTUAL, 3 = STORED); PRAGMA table_info omits them. */
  generated?: "virtual" | "stored";
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
  /** False for a WITHOUT ROWID table (rows are then named by their position). */
  hasRowid: boolean;
  /** sqlite_sequence's value for an AUTOINCREMENT table: the largest id ever handed out, deleted rows included. */
  autoincrementSeq?: number;
}

/** A virtual table (FTS5, R*Tree, ...) or one of the shadow tables its module keeps its data in. */
export interface SqliteVirtualTable {
  name: string;
  kind: "virtual" | "shadow";
  /** The module (`USING fts5(...)`), for a virtual table. */
  module?: string;
}

export interface SqliteSchema {
  tables: SqliteTable[];
  virtualTables: SqliteVirtualTable[];
}

/** Tables that are SQLite's own bookkeeping, never application data. */
export function isSqliteInternal(table: string): boolean {
  return table.startsWith("sqlite_");
}

export function quoteSqlite(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The WebAssembly globals this module touches (the project's TypeScript lib does not declare them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmInstanceClass = new (...args: unknown[]) => { exports: Record<string, unknown> };
interface WebAssemblyGlobal {
  Instance: WasmInstanceClass;
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyGlobal }).WebAssembly;

type Step = (statement: number) => number;
type Column<T> = (statement: number, column: number) => T;

interface WasmSqlite {
  Database: typeof WasmDatabase;
  memory: WasmMemory;
  openV2: (filename: number, database: number, flags: number, vfs: number) => number;
  closeV2: (database: number) => number;
  errmsg: (database: number) => number;
  malloc: (bytes: number) => number;
  free: (pointer: number) => void;
  step: Step;
  columnCount: (statement: number) => number;
  columnType: Column<number>;
  columnDouble: Column<number>;
  columnInt64: Column<bigint>;
  columnText: Column<number>;
  columnBlob: Column<number>;
  columnBytes: Column<number>;
}

let wasm: WasmSqlite | undefined;

/**
 * Loads a private instance of node-sqlite3-wasm and keeps its WebAssembly memory, which the library
 * does not export: its module instantiates synchronously with `new WebAssembly.Instance` on
 * require, so the instance is caught there. The require cache entry is bypassed so that the
 * instance is ours even when another module loaded the library first.
 */
function loadWasm(): WasmSqlite {
  if (wasm) return wasm;
  const require = createRequire(__filename);
  const id = require.resolve("node-sqlite3-wasm");
  const cached = require.cache[id];
  delete require.cache[id];
  let memory: WasmMemory | undefined;
  const Instance = webAssembly.Instance;
  webAssembly.Instance = new Proxy(Instance, {
    construct(target, args: unknown[]) {
      const instance = Reflect.construct(target, args) as InstanceType<WasmInstanceClass>;
      for (const value of Object.values(instance.exports)) if (value instanceof webAssembly.Memory) memory = value;
      return instance;
    },
  });
  let lib: Record<string, unknown>;
  try {
    lib = require(id) as Record<string, unknown>;
  } finally {
    webAssembly.Instance = Instance;
    if (cached) require.cache[id] = cached;
    else delete require.cache[id];
  }
  if (!memory) throw new Error("node-sqlite3-wasm did not instantiate its WebAssembly module synchronously; pin the version package.json names");
  const fn = <T>(name: string) => lib[`_sqlite3_${name}`] as T;
  wasm = {
    Database: lib.Database as typeof WasmDatabase,
    memory,
    openV2: fn("open_v2"),
    closeV2: fn("close_v2"),
    errmsg: fn("errmsg"),
    malloc: lib._malloc as WasmSqlite["malloc"],
    free: lib._free as WasmSqlite["free"],
    step: fn("step"),
    columnCount: fn("column_count"),
    columnType: fn("column_type"),
    columnDouble: fn("column_double"),
    columnInt64: fn("column_int64"),
    columnText: fn("column_text"),
    columnBlob: fn("column_blob"),
    columnBytes: fn("column_bytes"),
  };
  return wasm;
}

/** A SQLite file opened read-only; pages are read from disk on demand. */
export type SqliteDatabase = WasmDatabase;

/**
 * Whether `file` is a WAL-mode database: its header's write and read versions (bytes 18 and 19) are
 * 2 (sqlite.org/fileformat.html, "File format version numbers"). False for a file too short to say.
 */
function isWalMode(file: string): boolean {
  const header = Buffer.alloc(20);
  const fd = openSync(file, "r");
  try {
    return readSync(fd, header, 0, header.length, 0) === header.length && (header[18] === 2 || header[19] === 2);
  } finally {
    closeSync(fd);
  }
}

const SQLITE_OPEN_READONLY = 0x01;
const SQLITE_OPEN_URI = 0x40;

/**
 * Opens a WAL-mode file as `file:...?immutable=1`. The library's VFS has no shared memory, so SQLite
 * cannot open a WAL database through it the usual way ("unable to open database file"), and
 * `locking_mode=EXCLUSIVE`, the other way round that, creates a `-wal` beside the file and deletes
 * it on close, which would pull an empty `-wal` from under an application still holding it.
 * Immutable, SQLite reads the main file alone, takes no lock and touches no other file; that is
 * exact because a pending `-wal` was refused before (assertNoSidecarFiles) and the file read is the
 * snapshot copy, which nothing writes (on a dry run the source, whose plan is a rehearsal; the run
 * itself fails "source unchanged" when the -wal fills meanwhile). The library opens only with fixed
 * flags, so the handle is opened through its exported `sqlite3_open_v2` and wrapped in its Database
 * class.
 */
function openImmutable(file: string): SqliteDatabase {
  const lib = loadWasm();
  const escaped = path.resolve(file).replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const name = Buffer.from(`file:${escaped}?immutable=1\0`, "utf8");
  const namePointer = lib.malloc(name.length);
  const handlePointer = lib.malloc(4);
  try {
    Buffer.from(lib.memory.buffer).set(name, namePointer);
    const code = lib.openV2(namePointer, handlePointer, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, 0);
    const handle = Buffer.from(lib.memory.buffer).readInt32LE(handlePointer);
    if (code !== 0) {
      const message = handle === 0 ? `SQLite result code ${code}` : cString(lib, lib.errmsg(handle));
      if (handle !== 0) lib.closeV2(handle);
      throw new Error(message);
    }
    // The fields the library's constructor sets (node-sqlite3-wasm, pinned in package.json).
    return Object.assign(Object.create(lib.Database.prototype) as SqliteDatabase, { _ptr: handle, _functions: new Map() });
  } finally {
    lib.free(namePointer);
    lib.free(handlePointer);
  }
}

/** The NUL-terminated UTF-8 string at `pointer` in the WebAssembly memory. */
function cString(lib: WasmSqlite, pointer: number): string {
  const heap = Buffer.from(lib.memory.buffer);
  return heap.toString("utf8", pointer, heap.indexOf(0, pointer));
}

/**
 * Opens `file` read-only (the snapshot copy, or the source itself on a dry run); a WAL-mode file
 * immutable (see openImmutable), any other through the library's constructor.
 * @throws Error naming the file: a lock directory left behind, or a file SQLite cannot open
 */
export function openSqlite(file: string): SqliteDatabase {
  const { Database } = loadWasm();
  // The library's VFS locks with a `<file>.lock` directory; one left by a killed run reads as "database is locked".
  if (existsSync(`${file}.lock`)) {
    throw new Error(`${file}.lock exists: another run is reading ${file}, or a killed run left the directory behind; if no run is going, remove it (rmdir ${file}.lock)`);
  }
  let wal = false;
  try {
    wal = isWalMode(file);
    return wal ? openImmutable(file) : new Database(file, { readOnly: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const walNote = wal
      ? `; it is in WAL journal mode (header bytes 18-19 = 2): stop writes to it, checkpoint it (sqlite3 ${file} "PRAGMA wal_checkpoint(TRUNCATE);") or switch it to a rollback journal (sqlite3 ${file} "PRAGMA journal_mode=DELETE;"), and run again`
      : "";
    throw new Error(`--sqlite ${file}: cannot open it as a SQLite database (${reason})${walNote}`);
  }
}

function all(db: SqliteDatabase, sql: string): Record<string, WasmValue>[] {
  return db.all(sql) as Record<string, WasmValue>[];
}

const VIRTUAL_MODULE = /\bUSING\s+("?)([A-Za-z0-9_]+)\1/i;

/**
 * Every table with its columns (PRAGMA table_xinfo: generated columns included), foreign keys, row
 * count and AUTOINCREMENT high-water mark, and, apart, the virtual tables and their shadow tables
 * (PRAGMA table_list), whose modules may not even be loadable here.
 */
export function readSqliteSchema(db: SqliteDatabase): SqliteSchema {
  // table_list also lists sqlite_schema, the catalog itself.
  const listed = all(db, "PRAGMA main.table_list").filter((t) => t.type !== "view" && t.name !== "sqlite_schema");
  const sqlOf = new Map(all(db, "SELECT name, sql FROM sqlite_master WHERE type = 'table'").map((r) => [String(r.name), String(r.sql ?? "")]));
  const hasSequence = listed.some((t) => t.name === "sqlite_sequence");
  const sequences = new Map(hasSequence ? all(db, "SELECT name, seq FROM sqlite_sequence").map((r) => [String(r.name), Number(r.seq)]) : []);
  const virtualTables: SqliteVirtualTable[] = [];
  const tables: SqliteTable[] = [];
  for (const entry of listed.sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1))) {
    const name = String(entry.name);
    if (entry.type === "virtual" || entry.type === "shadow") {
      const module = entry.type === "virtual" ? VIRTUAL_MODULE.exec(sqlOf.get(name) ?? "")?.[2] : undefined;
      virtualTables.push({ name, kind: entry.type, ...(module ? { module: module.toLowerCase() } : {}) });
      continue;
    }
    const columns = all(db, `PRAGMA table_xinfo(${quoteSqlite(name)})`)
      // hidden 1 marks a virtual table's hidden column; ordinary tables have 0, 2 or 3.
      .filter((c) => c.hidden !== 1)
      .map(
        (c): SqliteColumn => ({
          name: String(c.name),
          declaredType: String(c.type ?? ""),
          notNull: c.notnull === 1,
          primaryKey: Number(c.pk),
          ...(c.hidden === 2 ? { generated: "virtual" as const } : c.hidden === 3 ? { generated: "stored" as const } : {}),
        }),
      );
    const keys = new Map<number, SqliteForeignKey>();
    for (const k of all(db, `PRAGMA foreign_key_list(${quoteSqlite(name)})`)) {
      const key = keys.get(Number(k.id)) ?? { id: Number(k.id), references: String(k.table), from: [], to: [] };
      key.from.push(String(k.from));
      key.to.push(String(k.to ?? ""));
      keys.set(Number(k.id), key);
    }
    const rowCount = isSqliteInternal(name) ? 0 : Number(all(db, `SELECT count(*) AS n FROM ${quoteSqlite(name)}`)[0]?.n ?? 0);
    const seq = sequences.get(name);
    tables.push({ name, columns, foreignKeys: [...keys.values()], rowCount, hasRowid: entry.wr !== 1, ...(seq !== undefined ? { autoincrementSeq: seq } : {}) });
  }
  return { tables, virtualTables };
}

/** Rows violating a declared foreign key in the source (PRAGMA foreign_key_check), per table. */
export function sqliteForeignKeyViolations(db: SqliteDatabase, tables: readonly string[]): Map<string, number> {
  const violations = new Map<string, number>();
  // Per table: a database-wide check would also visit virtual tables, whose module may be missing.
  for (const table of tables) {
    for (const row of all(db, `PRAGMA foreign_key_check(${quoteSqlite(table)})`)) {
      violations.set(String(row.table), (violations.get(String(row.table)) ?? 0) + 1);
    }
  }
  return violations;
}

/** A column to stream. */
export interface SourceColumn {
  name: string;
  /** Integers beyond +-(2^53-1) arrive as exact decimal text (integer, numeric and text targets); otherwise as the nearest double. */
  exactIntegers: boolean;
  /** TEXT values arrive as their raw bytes (a bytea target stores exactly what SQLite held). */
  textAsBytes: boolean;
}

const SQLITE_ROW = 100;
const SQLITE_DONE = 101;

/** Checks TEXT bytes strictly: throws naming the row and the column when they are not valid UTF-8. */
function strictText(table: string, column: string | undefined, row: string, bytes: Uint8Array): void {
  if (isUtf8(bytes)) return;
  const bad = firstInvalidUtf8(bytes);
  throw new Error(
    `${table}.${column}, ${row}: TEXT is not valid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).toUpperCase()} at offset ${bad}: "${showBytes(bytes, bad)}"); ` +
      "PostgreSQL would store U+FFFD in its place. Convert the source to UTF-8 (e.g. from Latin-1) or map the column to bytea in PostgreSQL",
  );
}

/** Where a source row is, for messages: its rowid, or its position in a WITHOUT ROWID table. */
export function rowName(rowid: SqliteValue, position: number): string {
  return rowid === null ? `row ${position} (WITHOUT ROWID table)` : `rowid ${rowid}`;
}

/**
 * Every row of `table`: element 0 is the rowid (null for a WITHOUT ROWID table), then `columns`.
 * The statement is finalized on exit; its order is the table's scan order, stable for an unchanged
 * file, so `rowAt` finds the same row again by its position.
 */
export function* tableRows(db: SqliteDatabase, table: SqliteTable | { name: string; hasRowid: boolean }, columns: readonly SourceColumn[]): Generator<SqliteValue[]> {
  const lib = loadWasm();
  const list = [table.hasRowid ? "rowid" : "NULL", ...columns.map((c) => quoteSqlite(c.name))];
  const statement = db.prepare(`SELECT ${list.join(", ")} FROM ${quoteSqlite(table.name)}`);
  const pointer = (statement as unknown as { _ptr: number })._ptr;
  const width = list.length;
  let position = 0;
  let heap = Buffer.from(lib.memory.buffer);
  try {
    for (;;) {
      const code = lib.step(pointer);
      if (code === SQLITE_DONE) return;
      if (code !== SQLITE_ROW) {
        // The library's own error path: throws SQLite's message for the code.
        (db as unknown as { _handleError(code: number): void })._handleError(code);
        throw new Error(`reading ${table.name}: SQLite result code ${code}`);
      }
      position += 1;
      // A view of the WebAssembly memory, made again only after the memory grew (its old buffer is then detached).
      if (heap.buffer !== lib.memory.buffer) heap = Buffer.from(lib.memory.buffer);
      const row: SqliteValue[] = new Array<SqliteValue>(width);
      for (let i = 0; i < width; i += 1) {
        const column = i === 0 ? undefined : columns[i - 1];
        switch (lib.columnType(pointer, i)) {
          case 1: {
            const value = lib.columnDouble(pointer, i);
            if (Number.isSafeInteger(value)) row[i] = value;
            else row[i] = column?.exactIntegers ? lib.columnInt64(pointer, i).toString() : Number(lib.columnInt64(pointer, i));
            break;
          }
          case 2:
            row[i] = lib.columnDouble(pointer, i);
            break;
          case 3: {
            const at = lib.columnText(pointer, i);
            const end = at + lib.columnBytes(pointer, i);
            if (column?.textAsBytes) {
              row[i] = new Uint8Array(heap.buffer, at, end - at).slice();
              break;
            }
            // One native call decodes leniently; only a U+FFFD in the result (a replaced byte, or one
            // stored as such) sends the raw bytes through the strict check.
            const text = heap.toString("utf8", at, end);
            if (text.includes("\uFFFD")) strictText(table.name, column?.name, rowName(row[0] ?? null, position), heap.subarray(at, end));
            row[i] = text;
            break;
          }
          case 4: {
            const at = lib.columnBlob(pointer, i);
            row[i] = at === 0 ? new Uint8Array(0) : new Uint8Array(heap.buffer, at, lib.columnBytes(pointer, i)).slice();
            break;
          }
          default:
            row[i] = null;
        }
      }
      yield row;
    }
  } finally {
    statement.finalize();
  }
}

/** The row at 1-based `position` of `tableRows`'s order: its rowid and values, for an error message. */
export function rowAt(db: SqliteDatabase, table: { name: string; hasRowid: boolean }, columns: readonly SourceColumn[], position: number): SqliteValue[] | undefined {
  let at = 0;
  for (const row of tableRows(db, table, columns)) {
    at += 1;
    if (at === position) return row;
  }
  return undefined;
}

/** Runs a domain-check query on the source; it must return exactly one value (integers exact, as BigInt beyond 2^53). */
export function sqliteScalar(db: SqliteDatabase, sql: string): WasmValue {
  const rows = all(db, sql);
  const values = rows.map((r) => Object.values(r));
  if (values.length !== 1 || values[0]?.length !== 1) throw new Error(`source query returned ${rows.length} row(s); expected one row with one value`);
  return values[0][0] ?? null;
}
