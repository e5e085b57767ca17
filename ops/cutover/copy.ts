import { createHash } from "node:crypto";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { escapeIdentifier, type Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { escapeCopyText, SplitLineDigest } from "./copy-text";
import { jsonbText } from "./jsonb";
import type { ColumnPlan, MigrationPlan, TablePlan } from "./plan";
import { rowAt, rowName, tableRows, type SourceColumn, type SqliteDatabase } from "./sqlite";
import { toPostgresText, type ColumnType, type SqliteValue, type TargetKind } from "./values";

/**
 * The load: every planned table streamed from the SQLite snapshot into COPY FROM STDIN inside the
 * migration's transaction, hashing exactly what was sent, parents first.
 */

export interface TableLoad {
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

export function columnList(columns: readonly ColumnPlan[]): string {
  return columns.map((c) => escapeIdentifier(c.name)).join(", ");
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
export class DeferredJsonb {
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
      const value = this.values[at] ?? null;
      // JSON text (the usual value) is printed directly; anything else, or text that fails, takes the
      // checked path, which names the row in its error.
      const json = typeof value === "string" ? value : undefined;
      const text = json === undefined ? undefined : printedJsonb(json);
      const field = text ?? fieldOf(this.table, this.columns[column] as ColumnPlan, this.rowids[row] ?? null, row + 1, value);
      // Each value is needed once: dropping it keeps memory flat while the load runs ahead.
      this.values[at] = null;
      if (column === width - 1) this.rowids[row] = null;
      // jsonb_out prints a backslash only where the JSON text had one (an escape), so printed text of
      // JSON without one is not searched again: that search would flatten every printed value alone.
      const copied = field === null ? "\\N" : text !== undefined && json?.includes("\\") === false ? text : backslashes(field);
      this.chunk += column === 0 ? copied : `\t${copied}`;
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

/** jsonb_out's text for JSON text, or undefined when it is not JSON jsonb accepts (toPostgresText then says why). */
function printedJsonb(text: string): string | undefined {
  try {
    return jsonbText(text);
  } catch {
    return undefined;
  }
}

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
export function* sourceLines(db: SqliteDatabase, table: TablePlan): Generator<string> {
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
  const stream = client.query(copyFrom(`COPY ${escapeIdentifier(schema)}.${escapeIdentifier(table.target)} (${columnList(order)}) FROM STDIN`));
  let copyError: Error | undefined;
  stream.on("error", (error: Error) => {
    copyError = error;
  });
  // With jsonb columns (sent last, as the source's JSON text) only each line's plain part is hashed.
  const hash = jsonb ? new SplitLineDigest(deferredColumns.length, false) : createHash("sha256");
  let rows = 0;
  let chunk = "";
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
        hash.update(bytes);
        const flushed = stream.write(bytes);
        chunk = "";
        if (copyError) throw copyError;
        if (!flushed) await drain(stream, jsonb);
      }
    }
    const bytes = Buffer.from(chunk, "utf8");
    hash.update(bytes);
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
  return { table, rows, plain, sha256: hash instanceof SplitLineDigest ? hash.digest().head : hash.digest("hex"), ...(jsonb ? { jsonb } : {}) };
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

export async function load(client: Client, db: SqliteDatabase, plan: MigrationPlan, truncate: boolean, log: (line: string) => void): Promise<TableLoad[]> {
  const schema = plan.schema;
  const qualified = (table: string) => `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
  // Pin every setting an output function reads, so the text COPY TO returns is the text load sent.
  // No synchronized or parallel scans, so a freshly loaded table reads back in load order.
  const settings = ["TimeZone = 'UTC'", "DateStyle = 'ISO, YMD'", "extra_float_digits = 1", "bytea_output = 'hex'", "synchronize_seqscans = off", "max_parallel_workers_per_gather = 0"];
  for (const setting of settings) {
    await client.query(`SET LOCAL ${setting}`);
  }
  if (truncate && plan.tables.length > 0) await client.query(`TRUNCATE ${plan.tables.map((t) => qualified(t.target)).join(", ")}`);
  // A key inside a cycle (e.g. Comment.parentId -> Comment.id) cannot be satisfied row by row: check it at the end instead.
  const altered = plan.cyclicKeys.filter((k) => !k.deferrable);
  for (const key of altered) await client.query(`ALTER TABLE ${qualified(key.table)} ALTER CONSTRAINT ${escapeIdentifier(key.name)} DEFERRABLE INITIALLY DEFERRED`);
  for (const key of plan.cyclicKeys) await client.query(`SET CONSTRAINTS ${escapeIdentifier(schema)}.${escapeIdentifier(key.name)} DEFERRED`);

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
  for (const key of altered) await client.query(`ALTER TABLE ${qualified(key.table)} ALTER CONSTRAINT ${escapeIdentifier(key.name)} NOT DEFERRABLE`);
  return loads;
}
