/**
 * How one SQLite value becomes one PostgreSQL value, decided by the TARGET column's type (SQLite's
 * declared types are affinities, not types: a Prisma `DateTime` column holds epoch milliseconds or
 * ISO text, a `Boolean` holds 0/1). For every target kind this module gives:
 *  - the COPY text-format field to send (unescaped; `escapeCopyText` escapes it),
 *  - a canonical string of the value, computed from the SQLite value here and from the stored
 *    PostgreSQL value by `canonicalSql` there, so the validation compares both sides through the
 *    same normalization ("validate counts/domain checks from migration output").
 * Every function is pure and throws a message naming the value on anything it cannot map exactly.
 */

/** A value as sql.js returns it; integers outside +-2^53 arrive as decimal text (see sqlite.ts). */
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

/** The target kind for a column's `pg_type.typname` (information_schema `udt_name`). */
export function kindForType(udtName: string): TargetKind {
  switch (udtName) {
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
      return udtName;
    case "bool":
      return "boolean";
    case "bpchar":
      return "char";
    default:
      // text, varchar, citext, enums and anything else: sent as text; PostgreSQL parses it, and the
      // checksum (`col::text`) fails closed if PostgreSQL's output differs from what was sent.
      return "text";
  }
}

/** What a kind accepts from SQLite, for the dry-run plan. */
export const KIND_DESCRIPTION: Record<TargetKind, string> = {
  integer: "integers (64-bit exact)",
  numeric: "integer/real/decimal text, exact",
  float4: "real",
  float8: "real",
  boolean: "0/1 (or true/false text)",
  timestamp: "epoch ms or ISO text, stored as UTC",
  timestamptz: "epoch ms or ISO text, as an instant",
  date: "epoch ms or ISO text, UTC date part",
  bytea: "blob (text as UTF-8 bytes)",
  json: "JSON text, kept byte for byte",
  jsonb: "JSON text",
  uuid: "uuid text",
  char: "text, blank-padded",
  text: "text",
};

export interface Converted {
  /** The COPY field (unescaped), or null for SQL NULL. */
  copy: string | null;
  /** The canonical form the checksum hashes, or null for SQL NULL. */
  canonical: string | null;
}

/** A non-NULL SQLite value (NULL maps to NULL before any converter runs). */
type Present = Exclude<SqliteValue, null>;

const NULL_VALUE: Converted = { copy: null, canonical: null };

function describe(value: SqliteValue): string {
  if (value instanceof Uint8Array) return `a ${value.length}-byte blob`;
  if (typeof value === "string") return `text ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function reject(kind: TargetKind, value: SqliteValue, why: string): never {
  throw new Error(`cannot map ${describe(value)} to a ${kind} column: ${why}`);
}

/** Converts one SQLite value for a target column of `kind`. */
export function convertValue(kind: TargetKind, value: SqliteValue): Converted {
  if (value === null) return NULL_VALUE;
  switch (kind) {
    case "integer":
      return toInteger(value);
    case "numeric":
      return toNumeric(value);
    case "float4":
    case "float8":
      return toFloat(kind, value);
    case "boolean":
      return toBoolean(value);
    case "timestamp":
    case "timestamptz":
    case "date":
      return toTimestamp(kind, value);
    case "bytea":
      return toBytea(value);
    case "json":
      return same(kind, textOf(kind, value));
    case "jsonb":
      return toJsonb(value);
    case "uuid":
      return toUuid(value);
    case "char": {
      const text = textOf(kind, value);
      return { copy: text, canonical: text.replace(/ +$/, "") };
    }
    case "text":
      return same(kind, textOf(kind, value));
  }
}

/**
 * The SQL expression (over `column`, already quoted) whose text equals `convertValue(...).canonical`
 * for the value PostgreSQL stored.
 */
export function canonicalSql(kind: TargetKind, column: string): string {
  switch (kind) {
    case "numeric":
      return `trim_scale(${column})::text`;
    case "float4":
      return `encode(float4send(${column}), 'hex')`;
    case "float8":
      return `encode(float8send(${column}), 'hex')`;
    case "timestamp":
    case "timestamptz":
      return `(extract(epoch from ${column}) * 1000000)::bigint::text`;
    case "bytea":
      return `encode(${column}, 'hex')`;
    case "integer":
    case "boolean":
    case "date":
    case "json":
    case "jsonb":
    case "uuid":
    case "char":
    case "text":
      return `${column}::text`;
  }
}

function same(kind: TargetKind, text: string): Converted {
  if (text.includes("\u0000")) reject(kind, text, "PostgreSQL text cannot hold NUL (U+0000) characters");
  return { copy: text, canonical: text };
}

function textOf(kind: TargetKind, value: Present): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberText(value);
  return reject(kind, value, "a blob in a text column would need an encoding; map the column to bytea");
}

/** JavaScript's shortest round-trip text, keeping the sign of -0 (String(-0) is "0"). */
function numberText(value: number): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

const INTEGER_TEXT = /^[+-]?\d+$/;

function toInteger(value: Present): Converted {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) reject("integer", value, "it has a fractional part");
    const text = BigInt(value).toString();
    return { copy: text, canonical: text };
  }
  if (typeof value === "string" && INTEGER_TEXT.test(value.trim())) {
    const text = BigInt(value.trim()).toString();
    return { copy: text, canonical: text };
  }
  return reject("integer", value, "it is not an integer");
}

function toNumeric(value: Present): Converted {
  if (value instanceof Uint8Array) reject("numeric", value, "it is not a number");
  const text = typeof value === "number" ? numberText(value) : value.trim();
  return { copy: text, canonical: normalizeDecimal(text, "trim") };
}

function toFloat(kind: "float4" | "float8", value: Present): Converted {
  let parsed: number;
  let copy: string;
  if (typeof value === "number") {
    parsed = value;
    copy = numberText(value);
  } else if (typeof value === "string" && /^\s*(NaN|[+-]?Infinity|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*$/.test(value)) {
    parsed = Number(value);
    copy = value.trim();
  } else {
    return reject(kind, value, "it is not a number");
  }
  const bytes = new DataView(new ArrayBuffer(8));
  if (kind === "float4") bytes.setFloat32(0, parsed);
  else bytes.setFloat64(0, parsed);
  return { copy, canonical: Buffer.from(bytes.buffer, 0, kind === "float4" ? 4 : 8).toString("hex") };
}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, t: true, "1": true, false: false, f: false, "0": false };

function toBoolean(value: Present): Converted {
  let flag: boolean | undefined;
  if (typeof value === "number") flag = value === 1 ? true : value === 0 ? false : undefined;
  else if (typeof value === "string") flag = BOOLEAN_TEXT[value.trim().toLowerCase()];
  if (flag === undefined) reject("boolean", value, "Prisma stores booleans as 0 or 1");
  return { copy: flag ? "t" : "f", canonical: flag ? "true" : "false" };
}

function toBytea(value: Present): Converted {
  let hex: string;
  if (value instanceof Uint8Array) hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
  else if (typeof value === "string") hex = Buffer.from(value, "utf8").toString("hex");
  else return reject("bytea", value, "it is a number");
  return { copy: `\\x${hex}`, canonical: hex };
}

function toJsonb(value: Present): Converted {
  const text = textOf("jsonb", value);
  let canonical: string;
  try {
    canonical = jsonbText(text);
  } catch (error) {
    return reject("jsonb", value, error instanceof Error ? error.message : String(error));
  }
  return { copy: text, canonical };
}

function toUuid(value: Present): Converted {
  const text = textOf("uuid", value).trim();
  // PostgreSQL accepts upper case, braces and hyphens after any group of four digits.
  const digits = text.replace(/^\{(.*)\}$/, "$1").replace(/-/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(digits)) reject("uuid", value, "it is not a UUID");
  const canonical = `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
  return { copy: text, canonical };
}

// ---------------------------------------------------------------------------------------------
// Timestamps. Prisma's SQLite connector stores DateTime as epoch milliseconds (INTEGER); rows
// written by raw SQL or `DEFAULT CURRENT_TIMESTAMP` hold text ("2024-05-01 12:00:00", UTC by
// SQLite's definition, or ISO 8601 with an offset). Both become one UTC instant, computed with
// integer arithmetic so nothing passes through a lossy Date.

const MICROS_PER_DAY = 86_400_000_000n;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Microseconds since the epoch (UTC) of an ISO 8601 / SQLite date-time text; throws on anything else. */
export function parseTimestampText(text: string): bigint {
  const match = TIMESTAMP_TEXT.exec(text.trim());
  if (!match) throw new Error("expected ISO 8601 (YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM]) with at most microseconds");
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (daysInMonth[month - 1] ?? 0)) throw new Error("no such calendar date");
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new Error("no such time of day");
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s) - offsetMinutes * 60;
  return BigInt(seconds) * 1_000_000n + BigInt(frac.padEnd(6, "0") || "0");
}

/** "YYYY-MM-DD HH:MM:SS.ffffff" in UTC for microseconds since the epoch. */
export function formatUtcMicros(micros: bigint): string {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const { year, month, day } = civilFromDays(Number(days));
  if (year < 1 || year > 9999) throw new Error(`year ${year} is outside 0001-9999`);
  const secondsOfDay = Number(rest / 1_000_000n);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const time = `${pad(Math.floor(secondsOfDay / 3600))}:${pad(Math.floor(secondsOfDay / 60) % 60)}:${pad(secondsOfDay % 60)}`;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${time}.${pad(Number(rest % 1_000_000n), 6)}`;
}

function toTimestamp(kind: "timestamp" | "timestamptz" | "date", value: Present): Converted {
  let micros: bigint;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) reject(kind, value, "epoch milliseconds must be an integer");
    micros = BigInt(value) * 1000n;
  } else if (typeof value === "string") {
    try {
      micros = parseTimestampText(value);
    } catch (error) {
      return reject(kind, value, error instanceof Error ? error.message : String(error));
    }
  } else {
    return reject(kind, value, "a blob is not a date");
  }
  let text: string;
  try {
    text = formatUtcMicros(micros);
  } catch (error) {
    return reject(kind, value, error instanceof Error ? error.message : String(error));
  }
  if (kind === "date") return { copy: text.slice(0, 10), canonical: text.slice(0, 10) };
  // timestamptz gets an explicit +00 so the session time zone never shifts it; timestamp (Prisma's
  // default `timestamp(3)`) stores the UTC wall clock, as Prisma itself writes it.
  return { copy: kind === "timestamptz" ? `${text}+00` : text, canonical: micros.toString() };
}

// ---------------------------------------------------------------------------------------------
// Decimals and jsonb: PostgreSQL normalizes these on input, so the canonical form reproduces
// numeric_out (and trim_scale) and jsonb's output exactly.

/**
 * A decimal literal as PostgreSQL's numeric prints it: "keep" keeps the input's scale (numeric_in
 * then numeric_out, as jsonb numbers print), "trim" drops trailing fractional zeros (trim_scale).
 */
export function normalizeDecimal(text: string, scale: "keep" | "trim"): string {
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(text);
  if (special) {
    if (special[2]?.toLowerCase() === "nan") return "NaN";
    return special[1] === "-" ? "-Infinity" : "Infinity";
  }
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new Error(`${JSON.stringify(text)} is not a decimal number`);
  const [, sign, whole = "", fraction = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  const digits = `${whole}${fraction}`;
  // value = digits * 10^(exponent - fraction.length); numeric_in keeps max(0, that power's negation) fractional digits
  const displayScale = Math.max(0, fraction.length - exponent);
  const pointFromRight = fraction.length - exponent;
  let intPart: string;
  let fracPart: string;
  if (pointFromRight <= 0) {
    intPart = digits + "0".repeat(-pointFromRight);
    fracPart = "";
  } else {
    const padded = digits.padStart(pointFromRight + 1, "0");
    intPart = padded.slice(0, padded.length - pointFromRight);
    fracPart = padded.slice(padded.length - pointFromRight);
  }
  intPart = intPart.replace(/^0+(?=\d)/, "");
  fracPart = scale === "trim" ? fracPart.replace(/0+$/, "") : fracPart.padEnd(displayScale, "0").slice(0, displayScale);
  const isZero = /^0*$/.test(intPart + fracPart);
  return `${sign === "-" && !isZero ? "-" : ""}${intPart}${fracPart ? `.${fracPart}` : ""}`;
}

type JsonNode =
  | { type: "object"; entries: Map<string, JsonNode> }
  | { type: "array"; items: JsonNode[] }
  | { type: "string"; value: string }
  | { type: "number"; text: string }
  | { type: "literal"; text: "true" | "false" | "null" };

/** Parses JSON keeping number literals as text (JSON.parse would turn 1.0 into 1). */
function parseJson(text: string): JsonNode {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`invalid JSON at offset ${at}: ${what}`);
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at] as string)) at += 1;
  };
  const value = (): JsonNode => {
    space();
    const c = text[at];
    if (c === "{") {
      at += 1;
      const entries = new Map<string, JsonNode>();
      space();
      if (text[at] === "}") {
        at += 1;
        return { type: "object", entries };
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail("expected a key");
        const key = string();
        space();
        if (text[at] !== ":") fail("expected ':'");
        at += 1;
        // jsonb keeps the last of duplicate keys
        entries.delete(key);
        entries.set(key, value());
        space();
        if (text[at] === ",") at += 1;
        else if (text[at] === "}") {
          at += 1;
          return { type: "object", entries };
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      at += 1;
      const items: JsonNode[] = [];
      space();
      if (text[at] === "]") {
        at += 1;
        return { type: "array", items };
      }
      for (;;) {
        items.push(value());
        space();
        if (text[at] === ",") at += 1;
        else if (text[at] === "]") {
          at += 1;
          return { type: "array", items };
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { type: "string", value: string() };
    const literal = /^(true|false|null)/.exec(text.slice(at, at + 5));
    if (literal) {
      at += (literal[1] as string).length;
      return { type: "literal", text: literal[1] as "true" | "false" | "null" };
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (!number) return fail("expected a value");
    at += number[0].length;
    return { type: "number", text: number[0] };
  };
  const string = (): string => {
    const end = /^"((?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*)"/.exec(text.slice(at));
    if (!end) return fail("bad string");
    at += end[0].length;
    const decoded = JSON.parse(end[0]) as string;
    if (decoded.includes("\u0000")) fail("jsonb cannot hold \\u0000");
    return decoded;
  };
  const root = value();
  space();
  if (at !== text.length) fail("trailing characters");
  return root;
}

function jsonbString(value: string): string {
  // escape_json(): quote, backslash and the named control escapes; other controls as \u00XX.
  return `"${value.replace(/["\\\u0000-\u001f]/g, (c) => {
    switch (c) {
      case '"':
        return '\\"';
      case "\\":
        return "\\\\";
      case "\b":
        return "\\b";
      case "\f":
        return "\\f";
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  })}"`;
}

function compareJsonbKeys(a: string, b: string): number {
  // jsonb orders object keys by byte length, then bytewise.
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return ab.length - bb.length || Buffer.compare(ab, bb);
}

function printJsonb(node: JsonNode): string {
  switch (node.type) {
    case "object":
      return `{${[...node.entries.keys()]
        .sort(compareJsonbKeys)
        .map((key) => `${jsonbString(key)}: ${printJsonb(node.entries.get(key) as JsonNode)}`)
        .join(", ")}}`;
    case "array":
      return `[${node.items.map(printJsonb).join(", ")}]`;
    case "string":
      return jsonbString(node.value);
    case "number":
      return normalizeDecimal(node.text, "keep");
    case "literal":
      return node.text;
  }
}

/** The text PostgreSQL prints for `text::jsonb` (jsonb_out). */
export function jsonbText(text: string): string {
  return printJsonb(parseJson(text));
}

// ---------------------------------------------------------------------------------------------

/** Escapes one field for COPY's text format: backslash, newline, carriage return and tab. */
export function escapeCopyText(field: string | null): string {
  if (field === null) return "\\N";
  if (!/[\\\n\r\t]/.test(field)) return field;
  return field.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t"));
}
