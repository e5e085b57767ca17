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

/**
 * float8out/float4out (PostgreSQL 12+, extra_float_digits 1): the shortest digits that read back
 * exactly, fixed notation for decimal exponents in [-4, maxFixed), otherwise d.ddde+XX.
 */
function floatText(x: number, digitsOf: (x: number) => string, maxFixed: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const magnitude = Math.abs(x);
  // JavaScript prints these magnitudes in fixed notation with the same shortest digits.
  if (maxFixed === 15 && magnitude >= 1e-4 && magnitude < 1e15) return String(x);
  const sign = x < 0 ? "-" : "";
  const [mantissa = "", exponentText = "0"] = digitsOf(Math.abs(x)).split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= maxFixed) {
    const e = Math.abs(exponent);
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${exponent < 0 ? "-" : "+"}${e < 10 ? `0${e}` : e}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${"0".repeat(exponent + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/** JavaScript's shortest round-trip digits of a double, as "d.ddde+X". */
const doubleDigits = (x: number) => x.toExponential();

/** The shortest digits that read back as the same float4 (what float4out's Ryu f2s prints). */
function singleDigits(x: number): string {
  for (let precision = 1; precision < 9; precision += 1) {
    const text = x.toExponential(precision - 1);
    if (Math.fround(Number(text)) === x) return text;
  }
  return x.toExponential(8);
}

export function float8Text(x: number): string {
  return floatText(x, doubleDigits, 15);
}

export function float4Text(x: number): string {
  return floatText(Math.fround(x), singleDigits, 6);
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

// ---------------------------------------------------------------------------------------------
// Timestamps. Prisma's SQLite connector stores DateTime as epoch milliseconds (INTEGER); rows
// written by raw SQL or `DEFAULT CURRENT_TIMESTAMP` hold text ("2024-05-01 12:00:00", UTC by
// SQLite's definition, or ISO 8601 with an offset). Both become one UTC instant, as whole seconds
// plus microseconds (both exact in a double), never through a lossy Date.

/** An instant: seconds since the epoch and the microseconds within that second (0-999999). */
export interface Instant {
  seconds: number;
  micros: number;
}

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

/** The instant of an ISO 8601 / SQLite date-time text (no zone means UTC); throws on anything else. */
export function parseTimestampText(text: string): Instant {
  const match = TIMESTAMP_TEXT.exec(text.trim());
  if (!match) throw new Error("expected ISO 8601 (YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM]) with at most microseconds");
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (daysInMonth[month - 1] ?? 0)) throw new Error("no such calendar date");
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new Error("no such time of day");
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s) - offsetMinutes * 60;
  return { seconds, micros: Number(frac.padEnd(6, "0") || "0") };
}

export function instantFromEpochMillis(ms: number): Instant {
  const seconds = Math.floor(ms / 1000);
  return { seconds, micros: (ms - seconds * 1000) * 1000 };
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
const pad2 = (n: number) => TWO_DIGITS[n] ?? String(n);

/** timestamp_out with DateStyle ISO: "YYYY-MM-DD HH:MM:SS[.fraction without trailing zeros]" in UTC. */
export function formatInstant(instant: Instant): string {
  const days = Math.floor(instant.seconds / 86400);
  const secondsOfDay = instant.seconds - days * 86400;
  const time = `${pad2(Math.floor(secondsOfDay / 3600))}:${pad2(Math.floor(secondsOfDay / 60) % 60)}:${pad2(secondsOfDay % 60)}`;
  const fraction = instant.micros === 0 ? "" : `.${String(instant.micros).padStart(6, "0").replace(/0+$/, "")}`;
  return `${dateText(days)} ${time}${fraction}`;
}

let lastDays = Number.NaN;
let lastDate = "";

/** "YYYY-MM-DD" of a day number; consecutive rows mostly share a day, so the last one is kept. */
function dateText(days: number): string {
  if (days === lastDays) return lastDate;
  const { year, month, day } = civilFromDays(days);
  if (year < 1 || year > 9999) throw new Error(`year ${year} is outside 0001-9999`);
  lastDays = days;
  lastDate = `${String(year).padStart(4, "0")}-${pad2(month)}-${pad2(day)}`;
  return lastDate;
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

// ---------------------------------------------------------------------------------------------
// Decimals and jsonb: PostgreSQL normalizes these on input; these reproduce numeric_out and
// jsonb_out exactly.

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
  if (exponent === 0 && fraction === "" && scale === "keep" && /^[1-9]/.test(whole)) return sign === "-" ? `-${whole}` : whole;
  const digits = `${whole}${fraction}`;
  // value = digits * 10^-pointFromRight; numeric_in keeps max(0, pointFromRight) fractional digits
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
  if (scale === "trim") fracPart = fracPart.replace(/0+$/, "");
  const isZero = /^0*$/.test(intPart + fracPart);
  return `${sign === "-" && !isZero ? "-" : ""}${intPart}${fracPart ? `.${fracPart}` : ""}`;
}

function jsonbString(value: string): string {
  // escape_json(): quote, backslash and the named control escapes; other controls as \u00XX.
  if (!/["\\\u0000-\u001f]/.test(value)) return `"${value}"`;
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

/** A key with its UTF-8 length: jsonb orders object keys by byte length, then bytewise. */
interface JsonbKey {
  key: string;
  bytes: number;
  /** True when every character is ASCII (then bytes === length). */
  ascii: boolean;
  /** The key as jsonb_out prints it. */
  quoted: string;
  text: string;
}

const SURROGATE = /[\ud800-\udfff]/;

function compareJsonbKeys(a: JsonbKey, b: JsonbKey): number {
  if (a.bytes !== b.bytes) return a.bytes - b.bytes;
  // Without surrogates, UTF-16 order is code point order, which is UTF-8 byte order.
  if ((a.ascii && b.ascii) || (!SURROGATE.test(a.key) && !SURROGATE.test(b.key))) return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  return Buffer.compare(Buffer.from(a.key, "utf8"), Buffer.from(b.key, "utf8"));
}

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Parses JSON and prints it the way jsonb_out does (keys by length then bytes, the last duplicate
 * key wins, ", " and ": " separators, numbers as numeric_out prints them), in one pass.
 */
class JsonbPrinter {
  private at = 0;
  /** Set by string(): the last string had no escape and no control character (it prints as it is). */
  private plain = true;
  /** Set by string(): the last string was all ASCII. */
  private ascii = true;
  constructor(private readonly text: string) {}

  print(): string {
    const out = this.value();
    this.space();
    if (this.at !== this.text.length) this.fail("trailing characters");
    return out;
  }

  private fail(what: string): never {
    throw new Error(`invalid JSON at offset ${this.at}: ${what}`);
  }

  private space(): void {
    const text = this.text;
    let at = this.at;
    for (let c = text.charCodeAt(at); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++at));
    this.at = at;
  }

  private string(): string {
    const text = this.text;
    const start = this.at;
    let end = start + 1;
    // One scan finds the end and what the string needs, instead of a regular expression per use.
    let plain = true;
    let ascii = true;
    for (;;) {
      const c = text.charCodeAt(end);
      if (Number.isNaN(c)) this.fail("unterminated string");
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) plain = false;
      else if (c >= 0x80) ascii = false;
      end += c === 0x5c ? 2 : 1;
    }
    this.at = end + 1;
    const raw = text.slice(start + 1, end);
    this.plain = plain;
    this.ascii = ascii;
    if (plain) return raw;
    let decoded: string;
    try {
      decoded = JSON.parse(text.slice(start, end + 1)) as string;
    } catch {
      return this.fail("bad string");
    }
    if (decoded.includes("\u0000")) this.fail("jsonb cannot hold \\u0000");
    this.ascii = !NON_ASCII.test(decoded);
    return decoded;
  }

  private number(): string {
    const text = this.text;
    const start = this.at;
    let at = start;
    let plain = true;
    if (text.charCodeAt(at) === 0x2d) at += 1;
    const digitsFrom = at;
    for (let c = text.charCodeAt(at); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++at));
    if (at === digitsFrom || (text.charCodeAt(digitsFrom) === 0x30 && at - digitsFrom > 1)) this.fail("bad number");
    if (text.charCodeAt(at) === 0x2e) {
      const fractionFrom = ++at;
      for (let c = text.charCodeAt(at); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++at));
      if (at === fractionFrom) this.fail("bad number");
    }
    const e = text.charCodeAt(at);
    if (e === 0x65 || e === 0x45) {
      plain = false;
      at += 1;
      if (text.charCodeAt(at) === 0x2b || text.charCodeAt(at) === 0x2d) at += 1;
      const exponentFrom = at;
      for (let c = text.charCodeAt(at); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++at));
      if (at === exponentFrom) this.fail("bad number");
    }
    this.at = at;
    const literal = text.slice(start, at);
    // Without an exponent, a JSON number already prints as numeric_out prints it, except negative zero.
    if (plain && !/^-0(\.0*)?$/.test(literal)) return literal;
    return normalizeDecimal(literal, "keep");
  }

  private value(): string {
    this.space();
    const c = this.text.charCodeAt(this.at);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) {
      const value = this.string();
      return this.plain ? `"${value}"` : jsonbString(value);
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    const literal = c === 0x74 ? "true" : c === 0x66 ? "false" : c === 0x6e ? "null" : undefined;
    if (literal === undefined || !this.text.startsWith(literal, this.at)) return this.fail("expected a value");
    this.at += literal.length;
    return literal;
  }

  private array(): string {
    this.at += 1;
    this.space();
    if (this.text.charCodeAt(this.at) === 0x5d) {
      this.at += 1;
      return "[]";
    }
    let out = "[";
    for (;;) {
      out += this.value();
      this.space();
      const next = this.text.charCodeAt(this.at++);
      if (next === 0x5d) return `${out}]`;
      if (next !== 0x2c) this.fail("expected ',' or ']'");
      out += ", ";
    }
  }

  private object(): string {
    this.at += 1;
    this.space();
    if (this.text.charCodeAt(this.at) === 0x7d) {
      this.at += 1;
      return "{}";
    }
    const entries: JsonbKey[] = [];
    let sorted = true;
    let duplicates = false;
    for (;;) {
      this.space();
      if (this.text.charCodeAt(this.at) !== 0x22) this.fail("expected a key");
      const key = this.string();
      const quoted = this.plain ? `"${key}"` : jsonbString(key);
      const ascii = this.ascii;
      this.space();
      if (this.text.charCodeAt(this.at++) !== 0x3a) this.fail("expected ':'");
      const entry = { key, quoted, ascii, bytes: ascii ? key.length : Buffer.byteLength(key, "utf8"), text: this.value() };
      const previous = entries[entries.length - 1];
      if (previous) {
        const order = compareJsonbKeys(previous, entry);
        if (order >= 0) sorted = false;
        if (order === 0) duplicates = true;
      }
      entries.push(entry);
      this.space();
      const next = this.text.charCodeAt(this.at++);
      if (next === 0x7d) break;
      if (next !== 0x2c) this.fail("expected ',' or '}'");
    }
    let keys = entries;
    if (!sorted) {
      // jsonb keeps the last of duplicate keys
      const last = new Map<string, JsonbKey>();
      if (duplicates || entries.length > 1) for (const entry of entries) last.set(entry.key, entry);
      keys = [...last.values()].sort(compareJsonbKeys);
    }
    let out = "{";
    for (let i = 0; i < keys.length; i += 1) {
      const entry = keys[i] as JsonbKey;
      out += `${i === 0 ? "" : ", "}${entry.quoted}: ${entry.text}`;
    }
    return `${out}}`;
  }
}

/** The text PostgreSQL prints for `text::jsonb` (jsonb_out). */
export function jsonbText(text: string): string {
  return new JsonbPrinter(text).print();
}

// ---------------------------------------------------------------------------------------------

const COPY_SPECIAL = /[\\\n\r\t\b\f\v]/;
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v" };

/**
 * One field in COPY's text format, escaped exactly as COPY TO escapes output (backslash, newline,
 * carriage return, tab, backspace, form feed, vertical tab; NULL as \N), so sent and returned
 * lines compare equal.
 */
export function escapeCopyText(field: string | null): string {
  if (field === null) return "\\N";
  if (!COPY_SPECIAL.test(field)) return field;
  return field.replace(/[\\\n\r\t\b\f\v]/g, (c) => COPY_ESCAPES[c] as string);
}

/**
 * A 64-bit hash of one COPY line (two 32-bit lanes: FNV-1a and a multiply-xorshift, each finalized
 * with murmur3's fmix32), added into `sums` so a table's checksum does not depend on row order.
 * It guards against accidental change (triggers, lossy types), not against an adversary.
 */
export function addLineHash(line: string, sums: [number, number]): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ line.length;
  for (let i = 0; i < line.length; i += 1) {
    const c = line.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= b >>> 16;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  // Sums modulo 2^52 stay exact in doubles.
  sums[0] = (sums[0] + (a >>> 0)) % 4503599627370496;
  sums[1] = (sums[1] + (b >>> 0)) % 4503599627370496;
}

export function checksumText(sums: readonly [number, number]): string {
  return `${sums[0].toString(16).padStart(13, "0")}${sums[1].toString(16).padStart(13, "0")}`;
}
