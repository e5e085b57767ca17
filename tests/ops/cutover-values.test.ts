import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrder } from "../../ops/cutover/plan";
import type { TargetForeignKey } from "../../ops/cutover/postgres";
import { selectSql } from "../../ops/cutover/sqlite";
import {
  canonicalSql,
  convertValue,
  escapeCopyText,
  formatUtcMicros,
  jsonbText,
  kindForType,
  normalizeDecimal,
  parseTimestampText,
  type SqliteValue,
} from "../../ops/cutover/values";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { TRICKY_TEXT } from "./cutover-fixture";

describe("convertValue", () => {
  it("maps Prisma's SQLite storage to COPY text and a canonical form", () => {
    expect(convertValue("integer", 42)).toEqual({ copy: "42", canonical: "42" });
    expect(convertValue("integer", "9223372036854775807")).toEqual({ copy: "9223372036854775807", canonical: "9223372036854775807" });
    expect(convertValue("boolean", 1)).toEqual({ copy: "t", canonical: "true" });
    expect(convertValue("boolean", 0)).toEqual({ copy: "f", canonical: "false" });
    expect(convertValue("timestamp", 1704067200123)).toEqual({ copy: "2024-01-01 00:00:00.123000", canonical: "1704067200123000" });
    expect(convertValue("timestamptz", "2024-03-01T14:00:00.5+02:00")).toEqual({ copy: "2024-03-01 12:00:00.500000+00", canonical: "1709294400500000" });
    expect(convertValue("date", 1709251200000)).toEqual({ copy: "2024-03-01", canonical: "2024-03-01" });
    expect(convertValue("bytea", Uint8Array.from([0, 0x5c, 0xff]))).toEqual({ copy: "\\x005cff", canonical: "005cff" });
    expect(convertValue("float8", -0)).toEqual({ copy: "-0", canonical: "8000000000000000" });
    expect(convertValue("numeric", 1e21)).toEqual({ copy: "1e+21", canonical: "1000000000000000000000" });
    expect(convertValue("text", null)).toEqual({ copy: null, canonical: null });
  });

  it("refuses values it cannot map exactly, saying why", () => {
    expect(() => convertValue("integer", 1.5)).toThrow("cannot map number 1.5 to a integer column: it has a fractional part");
    expect(() => convertValue("boolean", 2)).toThrow("cannot map number 2 to a boolean column: Prisma stores booleans as 0 or 1");
    expect(() => convertValue("text", Uint8Array.from([1, 2]))).toThrow("cannot map a 2-byte blob to a text column: a blob in a text column would need an encoding; map the column to bytea");
    expect(() => convertValue("timestamp", 1.5)).toThrow("epoch milliseconds must be an integer");
    expect(() => convertValue("timestamp", "yesterday")).toThrow('cannot map text "yesterday" to a timestamp column: expected ISO 8601');
    expect(() => convertValue("timestamp", "2023-02-29")).toThrow("no such calendar date");
    expect(() => convertValue("timestamp", "2024-01-01T00:00:00.1234567Z")).toThrow("with at most microseconds");
    expect(() => convertValue("jsonb", "{'a': 1}")).toThrow("invalid JSON at offset 1: expected a key");
    expect(() => convertValue("uuid", "not-a-uuid")).toThrow("it is not a UUID");
    expect(() => convertValue("json", "nul\u0000")).toThrow("PostgreSQL text cannot hold NUL");
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

  it("parses timestamps to UTC microseconds and formats them back", () => {
    expect(parseTimestampText("1970-01-01")).toBe(0n);
    expect(parseTimestampText("1969-12-31T23:59:59.999999Z")).toBe(-1n);
    expect(parseTimestampText("2024-03-01 12:00:00")).toBe(1709294400000000n);
    expect(formatUtcMicros(-1n)).toBe("1969-12-31 23:59:59.999999");
    expect(formatUtcMicros(1709294400000000n)).toBe("2024-03-01 12:00:00.000000");
  });

  it("escapes COPY text fields (backslash, newline, carriage return, tab) and NULL", () => {
    expect(escapeCopyText("a\\b\nc\rd\te")).toBe("a\\\\b\\nc\\rd\\te");
    expect(escapeCopyText(null)).toBe("\\N");
    expect(escapeCopyText("\\N")).toBe("\\\\N");
  });

  it("selects integers beyond 2^53 as text so sql.js cannot round them", () => {
    expect(selectSql("T", ["id"])).toBe(
      `SELECT CASE WHEN typeof("id") = 'integer' AND ("id" > 9007199254740991 OR "id" < -9007199254740991) THEN CAST("id" AS TEXT) ELSE "id" END FROM "T"`,
    );
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

describe("canonical forms agree with PostgreSQL", () => {
  let pg: PostgresServer;
  let client: Client;
  beforeAll(async () => {
    pg = await startPostgres();
    client = new Client({ connectionString: pg.url() });
    await client.connect();
    await client.query("SET TimeZone = 'America/Los_Angeles'");
    await client.query("SET DateStyle = 'ISO, YMD'");
  });
  afterAll(async () => {
    await client?.end();
    await pg?.stop();
  });

  const cases: [string, SqliteValue[]][] = [
    ["int8", [0, -1, 42, 1e3, "9223372036854775807", "-9223372036854775808"]],
    ["numeric(65,30)", ["19.99", 3, 0.1 + 0.2, 1e21, 1e-7, "-0.000", "12345678901234567890"]],
    ["numeric", ["1.500", "-1.5e3", "NaN", "Infinity", 0.5]],
    ["float8", [0.1, 1e300, -1.5e-7, 5e-324, "Infinity", "-Infinity", "NaN", -0]],
    ["float4", [0.1, 3.4e38, 1.17549435e-38, 16777217]],
    ["boolean", [0, 1, "true", "f"]],
    [
      "timestamp(3)",
      [1704067200123, -86400000, "2024-02-29T23:59:59.999Z", "2024-03-01 12:00:00", "2024-03-01T14:00:00.123+02:00", "2024-03-01T00:00:00.1-05:30", "0001-01-01", "9999-12-31T23:59:59.999Z"],
    ],
    ["timestamp(6)", ["2024-01-01T00:00:00.123456Z"]],
    ["timestamptz(3)", [1704067200123, "2024-03-01 12:00:00", "2024-03-01T14:00:00.123+02:00", "2024-07-01T00:00:00"]],
    ["date", [1709251200000, "2024-03-01", "2024-03-01T23:59:59+01:00"]],
    ["bytea", [Uint8Array.from([0, 1, 0x5c, 0xff]), "é"]],
    [
      "jsonb",
      [
        '{"b":1,"a":2,"aa":[1.50,1e-7,-0.0,1E+2,0.000]}',
        '"\\u0001\\u001f\\"\\\\\\/"',
        "[]",
        "{}",
        '  {"x" : "é\\u00e9\\ud83d\\ude00"}  ',
        '{"long key":1,"a":{"z":null,"y":false},"é":1,"z":2}',
        "123456789012345678901234567890.5e-3",
        "-0",
        '{"dup":1,"dup":{"b":2}}',
      ],
    ],
    ["json", ['{ "keep" :  "spacing", "a":1.0 }']],
    ["uuid", ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11"]],
    ["char(5)", ["ab", "abc  "]],
    ["text", [TRICKY_TEXT, 1.5, -0, "9223372036854775807"]],
  ];

  for (const [type, values] of cases) {
    it(`${type}: what PostgreSQL stores hashes to the same canonical text`, async () => {
      const { rows: typeRows } = await client.query<{ u: string }>(`SELECT typname AS u FROM pg_type WHERE oid = $1::regtype`, [type]);
      const kind = kindForType(typeRows[0]?.u ?? "");
      for (const value of values) {
        const converted = convertValue(kind, value);
        const { rows } = await client.query<{ c: string }>(`SELECT ${canonicalSql(kind, "v")} AS c FROM (SELECT $1::${type} AS v) s`, [converted.copy]);
        expect({ value, canonical: rows[0]?.c }).toEqual({ value, canonical: converted.canonical });
      }
    });
  }

  it("fails closed when PostgreSQL rounds a value (microseconds into timestamp(3))", async () => {
    const converted = convertValue("timestamp", "2024-01-01T00:00:00.123456Z");
    const { rows } = await client.query<{ c: string }>(`SELECT ${canonicalSql("timestamp", "v")} AS c FROM (SELECT $1::timestamp(3) AS v) s`, [converted.copy]);
    expect(rows[0]?.c).toBe("1704067200123000");
    expect(converted.canonical).toBe("1704067200123456");
  });
});
