import { normalizeDecimal } from "./numbers";

/** jsonb_out reproduced: the text PostgreSQL prints for a JSON value stored as jsonb. */

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

/** jsonb's key order over a key's parts (see JsonbKey), so a key can be compared before any object is made for it. */
function compareKeys(a: string, aBytes: number, aAscii: boolean, b: string, bBytes: number, bAscii: boolean): number {
  if (aBytes !== bBytes) return aBytes - bBytes;
  // Without surrogates, UTF-16 order is code point order, which is UTF-8 byte order.
  if ((aAscii && bAscii) || (!SURROGATE.test(a) && !SURROGATE.test(b))) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function compareJsonbKeys(a: JsonbKey, b: JsonbKey): number {
  return compareKeys(a.key, a.bytes, a.ascii, b.key, b.bytes, b.ascii);
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
    // Compact JSON (JSON.stringify's) has no whitespace: every character above space ends it at once.
    if (text.charCodeAt(at) > 0x20) return;
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
    this.plain = plain;
    this.ascii = ascii;
    if (plain) return text.slice(start + 1, end);
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
    if (plain && (text.charCodeAt(start) !== 0x2d || !/^-0(\.0*)?$/.test(literal))) return literal;
    return normalizeDecimal(literal, "keep");
  }

  private value(): string {
    this.space();
    const c = this.text.charCodeAt(this.at);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) {
      const start = this.at;
      const value = this.string();
      // A string without escapes prints as it was written, quotes included.
      return this.plain ? this.text.slice(start, this.at) : jsonbString(value);
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

  /** Where the next key's opening quote is (whitespace skipped). */
  private keyStart(): number {
    this.space();
    if (this.text.charCodeAt(this.at) !== 0x22) this.fail("expected a key");
    return this.at;
  }

  private colon(): void {
    this.space();
    if (this.text.charCodeAt(this.at++) !== 0x3a) this.fail("expected ':'");
  }

  /**
   * An object whose keys already come in jsonb's order (no duplicates) is printed as it is read;
   * at the first key out of order it is read again from its brace and sorted (reorder()).
   */
  private object(): string {
    const open = this.at;
    this.at += 1;
    this.space();
    if (this.text.charCodeAt(this.at) === 0x7d) {
      this.at += 1;
      return "{}";
    }
    let out = "{";
    let previous = "";
    let previousBytes = -1;
    let previousAscii = true;
    for (;;) {
      const keyStart = this.keyStart();
      const key = this.string();
      const ascii = this.ascii;
      const bytes = ascii ? key.length : Buffer.byteLength(key, "utf8");
      if (previousBytes >= 0 && compareKeys(previous, previousBytes, previousAscii, key, bytes, ascii) >= 0) {
        this.at = open;
        return this.reorder();
      }
      const quoted = this.plain ? this.text.slice(keyStart, this.at) : jsonbString(key);
      this.colon();
      out += `${previousBytes >= 0 ? ", " : ""}${quoted}: ${this.value()}`;
      previous = key;
      previousBytes = bytes;
      previousAscii = ascii;
      this.space();
      const next = this.text.charCodeAt(this.at++);
      if (next === 0x7d) return `${out}}`;
      if (next !== 0x2c) this.fail("expected ',' or '}'");
    }
  }

  /** An object read from its opening brace into entries, sorted in jsonb's key order, the last of duplicate keys kept. */
  private reorder(): string {
    this.at += 1;
    this.space();
    const entries: JsonbKey[] = [];
    let sorted = true;
    let duplicates = false;
    for (;;) {
      const keyStart = this.keyStart();
      const key = this.string();
      const quoted = this.plain ? this.text.slice(keyStart, this.at) : jsonbString(key);
      const ascii = this.ascii;
      this.colon();
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
