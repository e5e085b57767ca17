import { Client } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrder } from "../../ops/cutover/plan";
import type { TargetForeignKey } from "../../ops/cutover/postgres";
import { firstInvalidUtf8 } from "../../ops/cutover/utf8";
import { createHash } from "node:crypto";
import { addLineHash, checksumText, escapeCopyText, SplitLineDigest } from "../../ops/cutover/copy-text";
import { jsonbText } from "../../ops/cutover/jsonb";
import { float8Text, normalizeDecimal } from "../../ops/cutover/numbers";
import { formatInstant, parseTimestampText } from "../../ops/cutover/timestamps";
import { kindForType, toPostgresText, type ColumnType, type SqliteValue, type TargetKind } from "../../ops/cutover/values";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { TRICKY_TEXT } from "./cutover-fixture";

const t = (kind: TargetKind, typmod = -1): ColumnType => ({ kind, typmod });

describe("toPostgresText", () => {
  it("maps Prisma's SQLite storage to the text PostgreSQL prints for the stored value", () => {
    expect(toPostgresText(t("integer"), 42)).toBe("42");
    expect(toPostgresText(t("integer"), "9223372036854775807")).toBe("9223372036854775807");
    expect(toPostgresText(t("boolean"), 1)).toBe("t");
    expect(toPostgresText(t("boolean"), 0)).toBe("f");
    expect(toPostgresText(t("timestamp", 3), 1704067200123)).toBe("2024-01-01 00:00:00.123");
    expect(toPostgresText(t("timestamp", 3), 1704067200000)).toBe("2024-01-01 00:00:00");
    expect(toPostgresText(t("timestamptz", 3), "2024-03-01T14:00:00.5+02:00")).toBe("2024-03-01 12:00:00.5+00");
    expect(toPostgresText(t("date"), 1709251200000)).toBe("2024-03-01");
    expect(toPostgresText(t("bytea"), Uint8Array.from([0, 0x5c, 0xff]))).toBe("\\x005cff");
    expect(toPostgresText(t("float8"), -0)).toBe("-0");
    expect(toPostgresText(t("float8"), 1.5e-7)).toBe("1.5e-07");
    expect(toPostgresText(t("numeric", (65 << 16) + 30 + 4), 19.99)).toBe("19.990000000000000000000000000000");
    expect(toPostgresText(t("numeric"), 1e21)).toBe("1000000000000000000000");
    expect(toPostgresText(t("char", 5 + 4), "ab")).toBe("ab   ");
    expect(toPostgresText(t("text"), null)).toBeNull();
  });

  it("refuses values it cannot map exactly, saying why", () => {
    expect(() => toPostgresText(t("integer"), 1.5)).toThrow("cannot map number 1.5 to a integer column: it has a fractional part");
    expect(() => toPostgresText(t("boolean"), 2)).toThrow("cannot map number 2 to a boolean column: Prisma stores booleans as 0 or 1");
    expect(() => toPostgresText(t("text"), Uint8Array.from([1, 2]))).toThrow(
      "cannot map a 2-byte blob to a text column: a blob in a text column would need an encoding; map the column to bytea",
    );
    expect(() => toPostgresText(t("timestamp", 3), 1.5)).toThrow("epoch milliseconds must be an integer");
    expect(() => toPostgresText(t("timestamp", 3), "yesterday")).toThrow('cannot map text "yesterday" to a timestamp column: expected ISO 8601');
    expect(() => toPostgresText(t("timestamp", 3), "2023-02-29")).toThrow("no such calendar date");
    expect(() => toPostgresText(t("timestamp", 3), "2024-01-01T00:00:00.1234Z")).toThrow("timestamp(3) would round its fraction of a second");
    expect(() => toPostgresText(t("timestamp"), "2024-01-01T00:00:00.1234567Z")).toThrow("with at most microseconds");
    expect(() => toPostgresText(t("numeric", (10 << 16) + 2 + 4), "1.005")).toThrow("numeric(_, 2) would round it");
    expect(() => toPostgresText(t("jsonb"), "{'a': 1}")).toThrow("invalid JSON at offset 1: expected a key");
    expect(() => toPostgresText(t("uuid"), "not-a-uuid")).toThrow("it is not a UUID");
    expect(() => toPostgresText(t("json"), "nul\u0000")).toThrow("PostgreSQL text cannot hold NUL");
    expect(() => toPostgresText(t("char", 2 + 4), "abc")).toThrow("it is longer than character(2)");
  });
});

describe("pure helpers", () => {
  it("normalizes decimals as numeric_out (keep) and trim_scale (trim) do", () => {
    expect(normalizeDecimal("1.50", "keep")).toBe("1.50");
    expect(normalizeDecimal("1.50", "trim")).toBe("1.5");
    expect(normalizeDecimal("1e2", "keep")).toBe("100");
    expect(normalizeDecimal("1.5e-7", "keep")).toBe("0.00000015");
    expect(normalizeDecimal("-0.0", "keep")).toBe("0.0");
    expect(normalizeDecimal("-0.0", "trim")).toBe("0");
    expect(normalizeDecimal("007.10", "trim")).toBe("7.1");
    expect(normalizeDecimal("-Infinity", "trim")).toBe("-Infinity");
    expect(() => normalizeDecimal("1,5", "trim")).toThrow('"1,5" is not a decimal number');
  });

  it("prints jsonb's canonical text: keys by length then bytes, last duplicate wins", () => {
    expect(jsonbText('{"bb": 1, "a": [1.0, 2e2], "c": {"y": true, "x": null}, "a": "last"}')).toBe('{"a": "last", "c": {"x": null, "y": true}, "bb": 1}');
  });

  it("prints an object read in jsonb's order as it is, and sorts one whose keys turn out of order after a sorted start", () => {
    expect(jsonbText('{"a":1,"bb":[true,"x"],"ccc":{"d":-0}}')).toBe('{"a": 1, "bb": [true, "x"], "ccc": {"d": 0}}');
    expect(jsonbText('{"z": 1, "é": 2}')).toBe('{"z": 1, "é": 2}');
    expect(jsonbText('{"é": 1, "z": 2}')).toBe('{"z": 2, "é": 1}');
    expect(jsonbText('{"a": {"y": 1, "x": 2}, "bb": [1], "c": 0}')).toBe('{"a": {"x": 2, "y": 1}, "c": 0, "bb": [1]}');
    expect(jsonbText('{"a": 1, "b": 2, "a": 3}')).toBe('{"a": 3, "b": 2}');
    expect(() => jsonbText('{"b": 1, "a": 2,}')).toThrow("invalid JSON at offset 16: expected a key");
  });

  it("parses timestamps to UTC instants and formats them as timestamp_out does", () => {
    expect(parseTimestampText("1970-01-01")).toEqual({ seconds: 0, micros: 0 });
    expect(parseTimestampText("1969-12-31T23:59:59.999999Z")).toEqual({ seconds: -1, micros: 999999 });
    expect(parseTimestampText("2024-03-01 12:00:00")).toEqual({ seconds: 1709294400, micros: 0 });
    expect(formatInstant({ seconds: -1, micros: 999990 })).toBe("1969-12-31 23:59:59.99999");
    expect(formatInstant({ seconds: 1709294400, micros: 0 })).toBe("2024-03-01 12:00:00");
  });

  it("sums line hashes independently of row order", () => {
    const forward: [number, number] = [0, 0];
    const backward: [number, number] = [0, 0];
    const lines = ["1\tada", "2\tzoë", "3\t\\N", "3\t\\N"];
    for (const line of lines) addLineHash(line, forward);
    for (const line of [...lines].reverse()) addLineHash(line, backward);
    expect(checksumText(forward)).toBe(checksumText(backward));
    const changed: [number, number] = [0, 0];
    for (const line of ["1\tada", "2\tzoe", "3\t\\N", "3\t\\N"]) addLineHash(line, changed);
    expect(checksumText(changed)).not.toBe(checksumText(forward));
  });

  it("digests COPY lines split before their last fields, whatever the chunk boundaries", () => {
    const lines = ["1\tada\t{\"a\": 1}\t\\N", "2\t\tnäme \\t\t[]", "3\t\\N\t\\N\t{}"];
    const sha = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
    const expected = {
      rows: 3,
      head: sha(lines.map((l) => `${l.split("\t").slice(0, 2).join("\t")}\n`).join("")),
      tail: sha(lines.map((l) => `${l.split("\t").slice(2).join("\t")}\n`).join("")),
    };
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(""), "utf8");
    for (const size of [1, 2, 5, 13, bytes.length]) {
      const digest = new SplitLineDigest(2, true);
      for (let at = 0; at < bytes.length; at += size) digest.update(bytes.subarray(at, at + size));
      expect(digest.digest()).toEqual(expected);
    }
    const whole = new SplitLineDigest(0, false);
    whole.update(bytes);
    expect(whole.digest()).toEqual({ rows: 3, head: sha(lines.map((l) => `${l}\n`).join("")), tail: "" });
    const cut = new SplitLineDigest(2, true);
    cut.update(bytes.subarray(0, bytes.length - 1));
    expect(() => cut.digest()).toThrow("COPY text ended inside a line (10 bytes after the last newline)");
  });

  it("escapes COPY text fields as COPY TO does (backslash, newline, CR, tab, backspace, form feed, vertical tab) and NULL", () => {
    expect(escapeCopyText("a\\b\nc\rd\te\bf\fg\vh\u0001")).toBe("a\\\\b\\nc\\rd\\te\\bf\\fg\\vh\u0001");
    expect(escapeCopyText(null)).toBe("\\N");
    expect(escapeCopyText("\\N")).toBe("\\\\N");
  });

  it("finds the first byte that is not valid UTF-8 (Latin-1, a cut sequence, an overlong form, a surrogate)", () => {
    expect(firstInvalidUtf8(Buffer.from("café 👩‍💻", "utf8"))).toBe(-1);
    expect(firstInvalidUtf8(Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x20]))).toBe(3);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xe2, 0x82]))).toBe(1);
    expect(firstInvalidUtf8(Uint8Array.from([0xc0, 0xaf]))).toBe(0);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1);
  });

  it("maps PostgreSQL types to kinds, domains and enums to text", () => {
    expect(["int4", "int8", "bool", "bpchar", "varchar", "my_enum", "timestamptz"].map(kindForType)).toEqual([
      "integer",
      "integer",
      "boolean",
      "char",
      "text",
      "text",
      "timestamptz",
    ]);
  });
});

describe("loadOrder", () => {
  const fk = (table: string, references: string, name = `${table}_${references}_fkey`): TargetForeignKey => ({
    name,
    table,
    columns: ["x"],
    references,
    referencedColumns: ["id"],
    deferrable: false,
  });

  it("puts parents first, breaks ties by name and reports the keys inside cycles", () => {
    const { order, cyclicKeys } = loadOrder(
      ["Order", "User", "Invoice", "Payment", "Tree"],
      [fk("Order", "User"), fk("Invoice", "Payment"), fk("Payment", "Invoice"), fk("Payment", "Order"), fk("Tree", "Tree"), fk("Order", "Outside")],
    );
    expect(order).toEqual(["Tree", "User", "Order", "Invoice", "Payment"]);
    expect(cyclicKeys.map((k) => k.name)).toEqual(["Invoice_Payment_fkey", "Payment_Invoice_fkey", "Tree_Tree_fkey"]);
  });
});

describe("the text sent is the text PostgreSQL prints back", () => {
  let pg: PostgresServer;
  let client: Client;
  beforeAll(async () => {
    pg = await startPostgres();
    client = new Client({ connectionString: pg.url() });
    await client.connect();
    // The session settings load() pins.
    await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; SET bytea_output = 'hex'");
  });
  afterAll(async () => {
    await client?.end();
    await pg?.stop();
  });

  /** What COPY TO prints: the output functions the migration's validation reads. */
  async function copyOut(sql: string): Promise<string> {
    let out = "";
    for await (const chunk of client.query(copyTo(sql))) out += (chunk as Buffer).toString("utf8");
    return out;
  }

  async function columnType(type: string): Promise<ColumnType> {
    await client.query(`DROP TABLE IF EXISTS probe; CREATE TEMP TABLE probe (v ${type})`);
    const { rows } = await client.query<{ typname: string; typmod: number }>(
      `SELECT t.typname, a.atttypmod AS typmod FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = 'probe'::regclass AND a.attname = 'v'`,
    );
    return { kind: kindForType(rows[0]?.typname ?? ""), typmod: rows[0]?.typmod ?? -1 };
  }

  const cases: [string, SqliteValue[]][] = [
    ["int8", [0, -1, 42, 1e3, "007", "9223372036854775807", "-9223372036854775808"]],
    ["int4", [2147483647, -2147483648]],
    ["numeric(65,30)", ["19.99", 3, 0.1 + 0.2, 1e-7, "-0.000", "12345678901234567890"]],
    ["numeric", ["1.500", "-1.5e3", "NaN", "Infinity", 0.5, 1e21, "0.00"]],
    ["numeric(10,0)", [42, "-7.000"]],
    ["float8", [0.1, 1e300, -1.5e-7, 5e-324, 1.7976931348623157e308, 1e15, 999999999999999.9, 1e-4, 9.999e-5, 123456.789, "Infinity", "-Infinity", "NaN", -0, 2 ** 53 + 2]],
    ["float4", [0.1, 3.4e38, 1.17549435e-38, 16777217, 1e6, 999999, 1e-4, 1.5e-5, 0.3]],
    ["boolean", [0, 1, "true", "f"]],
    [
      "timestamp(3)",
      [1704067200123, 1704067200100, -86400000, "2024-02-29T23:59:59.999Z", "2024-03-01 12:00:00", "2024-03-01T14:00:00.123+02:00", "2024-03-01T00:00:00.1-05:30", "0001-01-01", "9999-12-31T23:59:59.999Z"],
    ],
    ["timestamp", ["2024-01-01T00:00:00.123456Z", "2024-01-01T00:00:00.000010Z"]],
    ["timestamptz(3)", [1704067200123, "2024-03-01 12:00:00", "2024-03-01T14:00:00.123+02:00", "2024-07-01T00:00:00"]],
    ["date", [1709251200000, "2024-03-01", "2024-03-01T23:59:59+01:00"]],
    ["bytea", [Uint8Array.from([0, 1, 0x5c, 0xff]), "é"]],
    [
      "jsonb",
      [
        '{"b":1,"a":2,"aa":[1.50,1e-7,-0.0,1E+2,0.000,-0,-0.5]}',
        '"\\u0001\\u001f\\"\\\\\\/"',
        "[]",
        "{}",
        '  {"x" : "é\\u00e9\\ud83d\\ude00"}  ',
        '{"long key":1,"a":{"z":null,"y":false},"é":1,"z":2,"😀":3,"\uffff":4}',
        "123456789012345678901234567890.5e-3",
        '{"dup":1,"dup":{"b":2},"c":[]}',
        '{"seq":1,"tags":["a","b"],"score":0.125}',
      ],
    ],
    ["json", ['{ "keep" :  "spacing", "a":1.0 }']],
    ["uuid", ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11"]],
    ["char(5)", ["ab", "abc  ", "abcde"]],
    ["varchar(20)", ["short", 12]],
    ["text", [TRICKY_TEXT, 1.5, -0, "9223372036854775807"]],
  ];

  for (const [type, values] of cases) {
    it(`${type}`, async () => {
      const column = await columnType(type);
      for (const value of values) {
        const sent = toPostgresText(column, value);
        await client.query("TRUNCATE probe");
        await client.query("INSERT INTO probe VALUES ($1)", [sent]);
        expect({ value, printed: await copyOut("COPY probe TO STDOUT") }).toEqual({ value, printed: `${escapeCopyText(sent)}\n` });
      }
    });
  }

  it("float8: 2000 random doubles across every magnitude print as PostgreSQL prints them", async () => {
    const values: number[] = [];
    const view = new DataView(new ArrayBuffer(8));
    let seed = 12345;
    while (values.length < 2000) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      view.setUint32(0, seed);
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      view.setUint32(4, seed);
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) values.push(x);
    }
    const { rows } = await client.query<{ printed: string[] }>(`SELECT array_agg(v::text ORDER BY i) AS printed FROM unnest($1::float8[]) WITH ORDINALITY u(v, i)`, [
      values.map((v) => float8Text(v)),
    ]);
    expect(rows[0]?.printed).toEqual(values.map((v) => float8Text(v)));
  });

  it("COPY TO returns the exact line COPY FROM was sent, escapes included", async () => {
    const fields = [TRICKY_TEXT, "tab\there", "bs\b ff\f vt\v", null, "\\N"];
    const line = fields.map((f) => escapeCopyText(f)).join("\t");
    await client.query("CREATE TEMP TABLE lines (a text, b text, c text, d text, e text)");
    const copyIn = client.query(copyFrom("COPY lines FROM STDIN"));
    copyIn.end(`${line}\n`);
    await new Promise((resolve, reject) => copyIn.on("finish", resolve).on("error", reject));
    expect(await copyOut("COPY lines TO STDOUT")).toBe(`${line}\n`);
  });
});
