import { float4Text, float8Text, normalizeDecimal } from "./numbers";
import { jsonbText } from "./jsonb";
import { formatInstant, instantFromEpochMillis, parseTimestampText, type Instant } from "./timestamps";

/**
 * How one SQLite value becomes one PostgreSQL value, decided by the TARGET column's type (SQLite's
 * declared types are affinities, not types: a Prisma `DateTime` column holds epoch milliseconds or
 * ISO text, a `Boolean` holds 0/1). Each value is sent in exactly the text PostgreSQL itself prints
 * for the stored value (its output function, with the session settings `load` pins), so a row's
 * COPY line equals the line `COPY (SELECT ...) TO STDOUT` returns for it: the validation hashes both
 * lines with one function ("validate counts/domain checks from migration output"). A value that
 * PostgreSQL would round or cannot hold is refused with a message naming it; a type this module
 * does not model is sent as text and fails closed if PostgreSQL prints it differently.
 */

/** A value as the SQLite reader returns it; integers outside +-2^53 arrive as decimal text where the target needs them exact (see sqlite.ts). */
export type SqliteValue = number | string | Uint8Array | null;

export type TargetKind =
  | "integer"
  | "numeric"
  | "float4"
  | "float8"
  | "boolean"
  | "timestamp"
  | "timestamptz"
  | "date"
  | "bytea"
  | "json"
  | "jsonb"
  | "uuid"
  | "char"
  | "text";

/** A target column's type as the mapping needs it. */
export interface ColumnType {
  kind: TargetKind;
  /** pg_attribute.atttypmod: numeric precision/scale, timestamp precision, char length; -1 when none. */
  typmod: number;
  /**
   * What an INTEGER in a timestamp/date column counts since the epoch: Prisma writes milliseconds,
   * hand-written apps often seconds (see datetime-units.ts). @default "ms"
   */
  epochUnit?: EpochUnit;
}

/** The unit of integer epoch timestamps: seconds or milliseconds. */
export type EpochUnit = "s" | "ms";

/** The target kind for a column's `pg_type.typname` (domains resolve to their base type first). */
export function kindForType(typname: string): TargetKind {
  switch (typname) {
    case "int2":
    case "int4":
    case "int8":
      return "integer";
    case "numeric":
    case "float4":
    case "float8":
    case "timestamp":
    case "timestamptz":
    case "date":
    case "bytea":
    case "json":
    case "jsonb":
    case "uuid":
      return typname;
    case "bool":
      return "boolean";
    case "bpchar":
      return "char";
    default:
      // text, varchar, citext, enums and anything else: sent as text; the checksum fails closed if
      // PostgreSQL prints the stored value differently from what was sent.
      return "text";
  }
}

/** What a kind accepts from SQLite, for the dry-run plan. */
export const KIND_DESCRIPTION: Record<TargetKind, string> = {
  integer: "integers (64-bit exact)",
  numeric: "integer/real/decimal text, never rounded",
  float4: "real",
  float8: "real",
  boolean: "0/1 (or true/false text)",
  timestamp: "epoch integers or ISO text, stored as UTC",
  timestamptz: "epoch integers or ISO text, as an instant",
  date: "epoch integers or ISO text, UTC date part",
  bytea: "blob (text as UTF-8 bytes)",
  json: "JSON text, kept byte for byte",
  jsonb: "JSON text",
  uuid: "uuid text",
  char: "text, blank-padded",
  text: "text",
};

/** A non-NULL SQLite value (NULL maps to NULL before any converter runs). */
type Present = Exclude<SqliteValue, null>;

function describe(value: SqliteValue): string {
  if (value instanceof Uint8Array) return `a ${value.length}-byte blob`;
  if (typeof value === "string") return `text ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function reject(kind: TargetKind, value: SqliteValue, why: string): never {
  throw new Error(`cannot map ${describe(value)} to a ${kind} column: ${why}`);
}

/** The text PostgreSQL prints for the value stored from `value`, or null for SQL NULL. */
export function toPostgresText(type: ColumnType, value: SqliteValue): string | null {
  if (value === null) return null;
  const kind = type.kind;
  switch (kind) {
    case "integer":
      return toInteger(value);
    case "numeric":
      return toNumeric(value, type.typmod);
    case "float8":
      return toFloat8(value);
    case "float4":
      return toFloat4(value);
    case "boolean":
      return toBoolean(value);
    case "timestamp":
    case "timestamptz":
    case "date":
      return toTimestamp(kind, value, type.typmod, type.epochUnit ?? "ms");
    case "bytea":
      return toBytea(value);
    case "json":
      return checkedText(kind, textOf(kind, value));
    case "jsonb":
      return toJsonb(value);
    case "uuid":
      return toUuid(value);
    case "char":
      return toChar(value, type.typmod);
    case "text":
      return checkedText(kind, textOf(kind, value));
  }
}

function checkedText(kind: TargetKind, text: string): string {
  if (text.includes("\u0000")) reject(kind, text, "PostgreSQL text cannot hold NUL (U+0000) characters");
  return text;
}

function textOf(kind: TargetKind, value: Present): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  return reject(kind, value, "a blob in a text column would need an encoding; map the column to bytea");
}

const INTEGER_TEXT = /^[+-]?\d+$/;

function toInteger(value: Present): string {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) reject("integer", value, "it has a fractional part");
    return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
  }
  if (typeof value === "string" && INTEGER_TEXT.test(value.trim())) return BigInt(value.trim()).toString();
  return reject("integer", value, "it is not an integer");
}

/** numeric(p,s)'s scale from its typmod (PostgreSQL 15+ packs a signed 11-bit scale), or undefined. */
function numericScale(typmod: number): number | undefined {
  if (typmod < 4) return undefined;
  return ((((typmod - 4) & 0x7ff) ^ 1024) - 1024);
}

function toNumeric(value: Present, typmod: number): string {
  if (value instanceof Uint8Array) reject("numeric", value, "it is not a number");
  const text = typeof value === "number" ? (Object.is(value, -0) ? "0" : String(value)) : value.trim();
  let kept: string;
  try {
    kept = normalizeDecimal(text, "keep");
  } catch (error) {
    return reject("numeric", value, error instanceof Error ? error.message : String(error));
  }
  const scale = numericScale(typmod);
  if (scale === undefined || scale < 0 || !/^-?\d/.test(kept)) return kept;
  const [whole, fraction = ""] = kept.split(".");
  if (/[1-9]/.test(fraction.slice(scale))) reject("numeric", value, `numeric(_, ${scale}) would round it`);
  return scale === 0 ? (whole as string) : `${whole}.${fraction.slice(0, scale).padEnd(scale, "0")}`;
}

const FLOAT_TEXT = /^\s*(NaN|[+-]?Infinity|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*$/;

function floatOf(kind: TargetKind, value: Present): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && FLOAT_TEXT.test(value)) return Number(value);
  return reject(kind, value, "it is not a number");
}

function toFloat8(value: Present): string {
  return float8Text(floatOf("float8", value));
}

function toFloat4(value: Present): string {
  const x = floatOf("float4", value);
  if (Number.isFinite(x) && !Number.isFinite(Math.fround(x))) reject("float4", value, "it is out of range for real");
  return float4Text(x);
}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, t: true, "1": true, false: false, f: false, "0": false };

function toBoolean(value: Present): string {
  let flag: boolean | undefined;
  if (value === 1 || value === 0) flag = value === 1;
  else if (typeof value === "string") flag = BOOLEAN_TEXT[value.trim().toLowerCase()];
  if (flag === undefined) reject("boolean", value, "Prisma stores booleans as 0 or 1");
  return flag ? "t" : "f";
}

function toBytea(value: Present): string {
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}`;
  if (typeof value === "string") return `\\x${Buffer.from(value, "utf8").toString("hex")}`;
  return reject("bytea", value, "it is a number");
}

function toJsonb(value: Present): string {
  const text = textOf("jsonb", value);
  try {
    return jsonbText(text);
  } catch (error) {
    return reject("jsonb", value, error instanceof Error ? error.message : String(error));
  }
}

function toUuid(value: Present): string {
  const text = textOf("uuid", value).trim();
  // PostgreSQL accepts upper case, braces and hyphens after any group of four digits.
  const digits = text.replace(/^\{(.*)\}$/, "$1").replace(/-/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(digits)) reject("uuid", value, "it is not a UUID");
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}

function toChar(value: Present, typmod: number): string {
  const text = checkedText("char", textOf("char", value)).replace(/ +$/, "");
  const length = typmod >= 4 ? typmod - 4 : undefined;
  const chars = [...text].length;
  if (length === undefined) return text;
  if (chars > length) reject("char", value, `it is longer than character(${length})`);
  return text + " ".repeat(length - chars);
}

function toTimestamp(kind: "timestamp" | "timestamptz" | "date", value: Present, typmod: number, unit: EpochUnit): string {
  let instant: Instant;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) reject(kind, value, `epoch ${unit === "s" ? "seconds" : "milliseconds"} must be an integer`);
    instant = unit === "s" ? { seconds: value, micros: 0 } : instantFromEpochMillis(value);
  } else if (typeof value === "string") {
    try {
      instant = parseTimestampText(value);
    } catch (error) {
      return reject(kind, value, error instanceof Error ? error.message : String(error));
    }
  } else {
    return reject(kind, value, "a blob is not a date");
  }
  let text: string;
  try {
    text = formatInstant(instant);
  } catch (error) {
    return reject(kind, value, error instanceof Error ? error.message : String(error));
  }
  if (kind === "date") return text.slice(0, 10);
  const precision = typmod >= 0 ? typmod : 6;
  if (instant.micros % 10 ** (6 - precision) !== 0) reject(kind, value, `${kind}(${precision}) would round its fraction of a second`);
  // timestamptz prints with the session zone (UTC here); timestamp (Prisma's default timestamp(3))
  // stores the UTC wall clock, as Prisma itself writes it.
  return kind === "timestamptz" ? `${text}+00` : text;
}
