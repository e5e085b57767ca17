import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { Database } from "node-sqlite3-wasm";
import { describe, expect, it } from "vitest";
import type { CutoverReport } from "../../ops/cutover/migrate";
import { exitCodeFor } from "../../ops/lib/report";
import { query, type Setup, type SetupOptions } from "./cutover-fixture";
import { cutoverSuite, failures } from "./cutover-suite";

/**
 * The real-world SQLite files of issue 14, one kind per block, each on a real SQLite file written by
 * SQLite itself and migrated into a real PostgreSQL: each either migrates exactly or is refused
 * with the table, row and column, and leaves PostgreSQL unchanged.
 */

const suite = cutoverSuite("cutover-kinds");
const { setup, migrate } = suite;

async function expectNothingCommitted(s: Setup, report: CutoverReport): Promise<void> {
  expect(report.committed).toBe(false);
  expect(exitCodeFor(report.results)).toBe(1);
  const rows = await query<{ n: number }>(s.url, `SELECT (SELECT count(*) FROM "User") + (SELECT count(*) FROM "Tag") + (SELECT count(*) FROM "Post") AS n`);
  expect(rows).toEqual([{ n: "0" }]);
  expect(await query(s.url, `SELECT last_value::text AS last, is_called FROM "User_id_seq"`)).toEqual([{ last: "1", is_called: false }]);
}

describe("invalid UTF-8 in TEXT (a Latin-1 byte written by a C client)", () => {
  it("is refused on the raw bytes with table, rowid, column and the fix, for plain text", async () => {
    const s = await setup({ mutate: (db) => db.run(`UPDATE "Tag" SET name = CAST(X'43616Fe9206E6F6972' AS TEXT) WHERE id = 3`) });
    const report = await migrate(s);
    expect(report.results.at(-1)?.detail).toBe(
      'rolled back: copying Tag into Tag: Tag.name, rowid 3: TEXT is not valid UTF-8 (byte 0xE9 at offset 3: "Cao\\xE9 noir"); PostgreSQL would store U+FFFD in its place. ' +
        "Convert the source to UTF-8 (e.g. from Latin-1) or map the column to bytea in PostgreSQL",
    );
    await expectNothingCommitted(s, report);
  });

  it("is refused in text that becomes jsonb", async () => {
    const s = await setup({ mutate: (db) => db.run(`UPDATE "Post" SET metadata = CAST(X'7B2261223A22E9227D' AS TEXT) WHERE id = 2`) });
    const report = await migrate(s);
    expect(report.results.at(-1)?.detail).toContain('copying Post into Post: Post.metadata, rowid 2: TEXT is not valid UTF-8 (byte 0xE9 at offset 6: "{"a":"\\xE9"}")');
    await expectNothingCommitted(s, report);
  });

  it("keeps a leading byte-order mark and a stored U+FFFD as they are", async () => {
    const s = await setup({
      mutate: (db) => db.exec(`UPDATE "Tag" SET name = CAST(X'EFBBBF426F6D' AS TEXT) WHERE id = 2; UPDATE "Tag" SET name = CAST(X'EFBFBD3F' AS TEXT) WHERE id = 3;`),
    });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(await query(s.url, `SELECT id, encode(convert_to(name, 'UTF8'), 'hex') AS hex FROM "Tag" WHERE id IN (2, 3) ORDER BY id`)).toEqual([
      { id: 2, hex: "efbbbf426f6d" },
      { id: 3, hex: "efbfbd3f" },
    ]);
  });

  it("keeps the exact bytes when the PostgreSQL column is bytea", async () => {
    const s = await setup({ mutate: (db) => db.run(`UPDATE "Attachment" SET data = CAST(X'FFE90041' AS TEXT) WHERE id = 2`) });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(await query(s.url, `SELECT encode(data, 'hex') AS hex FROM "Attachment" WHERE id = 2`)).toEqual([{ hex: "ffe90041" }]);
  });
});

describe("a partitioned target table", () => {
  it("is loaded through its parent and read back through a query (COPY cannot read a partitioned table as a table)", async () => {
    const s = await setup({
      extraSql: `CREATE TABLE "Reading" ("id" INTEGER NOT NULL, "at" TIMESTAMP(3) NOT NULL, "value" DOUBLE PRECISION) PARTITION BY RANGE ("at");
                 CREATE TABLE "Reading_2024" PARTITION OF "Reading" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');`,
      mutate: (db) =>
        db.exec(`CREATE TABLE "Reading" ("id" INTEGER NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL, "value" REAL);
                 INSERT INTO "Reading" VALUES (1, 1704067200000, 0.5), (2, 1719792000123, NULL);`),
    });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(report.results.find((r) => r.check === "checksum: Reading")?.status).toBe("pass");
    expect(await query(s.url, `SELECT id, at::text AS at, value FROM "Reading_2024" ORDER BY id`)).toEqual([
      { id: 1, at: "2024-01-01 00:00:00", value: 0.5 },
      { id: 2, at: "2024-07-01 00:00:00.123", value: null },
    ]);
  });
});

describe("generated columns (STORED and VIRTUAL)", () => {
  const sqlite = `CREATE TABLE "Invoice" (
      "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
      "net" INTEGER NOT NULL,
      "tax" INTEGER GENERATED ALWAYS AS ("net" / 5) STORED,
      "gross" INTEGER GENERATED ALWAYS AS ("net" + "net" / 5) VIRTUAL,
      "label" TEXT GENERATED ALWAYS AS ('INV-' || "id") VIRTUAL);
    INSERT INTO "Invoice" ("net") VALUES (100), (250);`;
  const postgres = `CREATE TABLE "Invoice" ("id" SERIAL PRIMARY KEY, "net" INTEGER NOT NULL, "tax" INTEGER,
      "gross" INTEGER GENERATED ALWAYS AS ("net" + "net" / 5) STORED, "label" TEXT NOT NULL);`;

  it("copies their values into plain PostgreSQL columns, leaves generated ones to PostgreSQL, and says which in the plan", async () => {
    const s = await setup({ extraSql: postgres, mutate: (db) => db.exec(sqlite) });
    const lines: string[] = [];
    const report = await migrate(s, { log: (line) => lines.push(...line.split("\n")) });
    expect(failures(report)).toEqual([]);
    expect(await query(s.url, `SELECT id, net, tax, gross, label FROM "Invoice" ORDER BY id`)).toEqual([
      { id: 1, net: 100, tax: 20, gross: 120, label: "INV-1" },
      { id: 2, net: 250, tax: 50, gross: 300, label: "INV-2" },
    ]);
    expect(lines).toContain("       tax: INTEGER -> integer [integers (64-bit exact); generated (STORED) in SQLite, its values copied into a plain column]");
    expect(lines).toContain("       label: TEXT -> text [text; generated (VIRTUAL) in SQLite, its values copied into a plain column]");
    expect(lines).toContain("       gross: generated in both databases, computed by PostgreSQL (not copied)");
    expect(lines.some((l) => l.includes("gets its default"))).toBe(false);
  });
});

describe("integer DateTime values that are not milliseconds", () => {
  const postgres = `CREATE TABLE "Booking" ("id" INTEGER PRIMARY KEY, "startsAt" TIMESTAMP(3) NOT NULL, "day" DATE);`;
  const sqlite = (values: string) => `CREATE TABLE "Booking" ("id" INTEGER PRIMARY KEY, "startsAt" DATETIME NOT NULL, "day" DATETIME); INSERT INTO "Booking" VALUES ${values};`;

  it("reads a column of epoch seconds as seconds, decided from its values", async () => {
    const s = await setup({ extraSql: postgres, mutate: (db) => db.exec(sqlite("(1, 1714564800, 1714521600), (2, 1717200000, NULL)")) });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(await query(s.url, `SELECT id, "startsAt"::text AS at, day::text AS day FROM "Booking" ORDER BY id`)).toEqual([
      { id: 1, at: "2024-05-01 12:00:00", day: "2024-05-01" },
      { id: 2, at: "2024-06-01 00:00:00", day: null },
    ]);
  });

  it("refuses a column plausible in neither unit, naming it and the flag", async () => {
    const s = await setup({ extraSql: postgres, mutate: (db) => db.exec(sqlite("(1, 1714564800000000, NULL)")) });
    const report = await migrate(s);
    expect(failures(report)).toEqual([
      "plan: column Booking.startsAt: integer values 1714564800000000 to 1714564800000000 are plausible dates in neither unit (as milliseconds after year 9999 to after year 9999, as seconds after year 9999 to after year 9999). " +
        "State the unit with --datetime-unit Booking.startsAt=s or --datetime-unit Booking.startsAt=ms",
    ]);
    await expectNothingCommitted(s, report);
  });

  it("refuses values too close to the epoch to tell, and takes the unit the user states", async () => {
    const s = await setup({ extraSql: postgres, mutate: (db) => db.exec(sqlite("(1, 86400, NULL)")) });
    const refused = await migrate(s);
    expect(failures(refused)[0]).toMatch(/^plan: column Booking\.startsAt: integer values 86400 to 86400 are plausible dates in neither unit .* --datetime-unit Booking\.startsAt=ms$/);
    const stated = await migrate(s, { datetimeUnits: new Map([["Booking.startsAt", "s"]]) });
    expect(failures(stated)).toEqual([]);
    expect(await query(s.url, `SELECT "startsAt"::text AS at FROM "Booking"`)).toEqual([{ at: "1970-01-02 00:00:00" }]);
  });

  it("refuses a --datetime-unit that names no timestamp column as bad usage, listing those there are", async () => {
    const s = await setup();
    await expect(migrate(s, { datetimeUnits: new Map([["User.email", "s"]]) })).rejects.toThrow(
      "--datetime-unit User.email: no such timestamp or date column in the plan (names are the SQLite table and column); the plan's are User.createdAt, User.updatedAt, Post.publishedAt, Comment.createdAt",
    );
  });
});

describe("the AUTOINCREMENT high-water mark (sqlite_sequence)", () => {
  it("moves each sequence past both max(id) and the ids SQLite already handed out", async () => {
    const s = await setup({
      mutate: (db) => db.exec(`DELETE FROM "User" WHERE id = 3; UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'Tag';`),
    });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(report.results.find((r) => r.check === 'sequence: public."User_id_seq"')?.detail).toBe("next value 4 (User.id max 2, SQLite sqlite_sequence 3)");
    expect(report.results.find((r) => r.check === 'sequence: public."Tag_id_seq"')?.detail).toBe("next value 1001 (Tag.id max 3, SQLite sqlite_sequence 1000)");
    expect(await query(s.url, `SELECT nextval('"User_id_seq"')::int AS user, nextval('"Tag_id_seq"')::int AS tag`)).toEqual([{ user: 4, tag: 1001 }]);
  });
});

describe("an empty, table-less or non-SQLite source (a wrong relative path makes SQLite create an empty one)", () => {
  const unreachable = "postgresql://postgres:unused@127.0.0.1:1/none";
  const snapshotsWritten = async (s: Setup) => (await readdir(s.snapshots).catch(() => [])).length;

  it("a 0-byte file is refused before any snapshot or connection, naming the path, and migrates with --allow-empty", async () => {
    const s = await setup();
    await writeFile(s.sqlite, "");
    await expect(migrate({ ...s, url: unreachable })).rejects.toThrow(
      `--sqlite ${s.sqlite}: it is empty (0 bytes), so there is nothing to migrate. Is it the right path (resolved as ${s.sqlite})? ` +
        "A wrong relative path makes SQLite create an empty database. Pass --allow-empty to migrate it anyway",
    );
    expect(await snapshotsWritten(s)).toBe(0);
    const allowed = await migrate(s, { allowEmpty: true });
    expect(failures(allowed)).toEqual([]);
    expect(allowed.results.at(-1)).toEqual({ check: "transaction", status: "pass", detail: "committed 0 rows in 0 tables" });
  });

  it("a SQLite database without tables is refused before connecting", async () => {
    const s = await setup();
    await rm(s.sqlite);
    const db = new Database(s.sqlite);
    db.exec("PRAGMA user_version = 7; CREATE TABLE gone (id INTEGER); DROP TABLE gone;");
    db.close();
    await expect(migrate({ ...s, url: unreachable })).rejects.toThrow(`--sqlite ${s.sqlite}: it holds no tables, so there is nothing to migrate.`);
  });

  it("a file that is not a SQLite database (a JSON export, a SQL dump) is refused before any snapshot", async () => {
    const s = await setup();
    for (const [content, start] of [
      ['{"users": []}\n', '"{\\"users\\": []}."'],
      ["-- SQL dump\nCREATE TABLE", '"-- SQL dump.CREA"'],
    ] as const) {
      await writeFile(s.sqlite, content);
      await expect(migrate({ ...s, url: unreachable })).rejects.toThrow(
        `--sqlite ${s.sqlite}: not a SQLite database (it starts with ${start}, not "SQLite format 3"); pass the path of the Prisma SQLite database (e.g. backend/prisma/dev.db)`,
      );
    }
    expect(await snapshotsWritten(s)).toBe(0);
  });

  it("a truncated file (a copy cut short) is refused from its header, before any snapshot", async () => {
    const s = await setup();
    const whole = await readFile(s.sqlite);
    await writeFile(s.sqlite, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(migrate({ ...s, url: unreachable })).rejects.toThrow(
      `--sqlite ${s.sqlite}: truncated (its header declares ${whole.length} bytes, the file has ${Math.floor(whole.length / 2)}): a copy cut short, or a download or disk that failed. Use the last good copy of the database`,
    );
    expect(await snapshotsWritten(s)).toBe(0);
  });

  it("a file cut inside its 100-byte header, or one whose header hides the cut (no page count), is named with the fix", async () => {
    const s = await setup();
    const whole = await readFile(s.sqlite);
    await writeFile(s.sqlite, whole.subarray(0, 50));
    await expect(migrate({ ...s, url: unreachable })).rejects.toThrow(
      `--sqlite ${s.sqlite}: truncated (50 bytes, shorter than SQLite's 100-byte header): a copy cut short, or a download or disk that failed. Use the last good copy of the database`,
    );
    // The in-header page count zeroed (as older writers leave it): the cut shows only when SQLite reads the schema.
    const cut = Buffer.from(whole.subarray(0, 8192));
    cut.writeUInt32BE(0, 28);
    await writeFile(s.sqlite, cut);
    await expect(migrate({ ...s, url: unreachable })).rejects.toThrow(
      new RegExp(`^--sqlite ${s.sqlite.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: SQLite cannot read it \\(.+\\): the file is damaged\\. Check it with: sqlite3 .+ "PRAGMA integrity_check", and use the last good copy of the database$`),
    );
    expect(await snapshotsWritten(s)).toBe(0);
  });

  it("an unreachable target is named without its password, exit 3, and costs no snapshot", async () => {
    const s = await setup();
    const error = await migrate({ ...s, url: "postgresql://postgres:s3cret-pw@127.0.0.1:1/app" }).then(
      () => undefined,
      (e: unknown) => e as Error & { exitCode?: number },
    );
    expect(error?.message).toMatch(/^cannot connect to PostgreSQL at postgresql:\/\/127\.0\.0\.1:1\/app \(--database-url or DATABASE_URL\): connect ECONNREFUSED 127\.0\.0\.1:1; check the URL's host, port, database, user, password and TLS settings\. Nothing was written$/);
    expect(error?.message).not.toContain("s3cret-pw");
    expect(error?.exitCode).toBe(3);
    expect(await snapshotsWritten(s)).toBe(0);
  });

  it("a bad checks file or snapshot folder is bad input before any snapshot: BOM accepted, a device or a file in the way refused", async () => {
    const s = await setup();
    const checks = path.join(suite.work(), "checks-bom.yaml");
    await writeFile(checks, '\uFEFF- name: users\n  sql: SELECT 1 WHERE false\n');
    const report = await migrate(s, { domainChecksFile: checks, dryRun: true });
    expect(report.results).toContainEqual({ check: "domain checks file", status: "info", detail: `1 check(s) from ${checks}` });
    await expect(migrate({ ...s, url: unreachable }, { domainChecksFile: "/dev/zero" })).rejects.toThrow("--domain-checks /dev/zero: not a regular file (a device or a pipe)");
    await expect(migrate({ ...s, url: unreachable }, { snapshotDir: s.sqlite })).rejects.toThrow(/^cannot connect/);
    await expect(migrate(s, { snapshotDir: s.sqlite })).rejects.toThrow(`--snapshot-dir ${s.sqlite}: ${s.sqlite} exists and is not a directory; pass a directory for the snapshot`);
  });

  it("tables, but none of the target's: refused with what the file holds", async () => {
    const s = await setup();
    await rm(s.sqlite);
    const db = new Database(s.sqlite);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    db.close();
    const refused = await migrate(s);
    expect(failures(refused)).toEqual([
      `plan: table notes (0 rows) has no table in PostgreSQL schema "public": run the application's migrations (prisma migrate deploy) against the target first`,
      `plan: ${s.sqlite} has none of the 6 tables of PostgreSQL schema "public" (it holds notes): is --sqlite the right path? Pass --allow-empty to migrate it anyway`,
    ]);
    expect(refused.committed).toBe(false);
  });
});

describe("virtual tables (FTS5) and their shadow tables", () => {
  it("are skipped by name with a note in the plan; the rest migrates", async () => {
    const s = await setup({
      mutate: (db) => db.exec(`CREATE VIRTUAL TABLE "PostSearch" USING fts5("title", "body"); INSERT INTO "PostSearch" VALUES ('First', 'hello world');`),
    });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    const fts = "virtual table (fts5): not copied; the application's PostgreSQL migrations build its search index or equivalent";
    const shadow = "shadow table of a virtual table (its module's own storage)";
    expect(report.plan?.skipped).toEqual([
      { table: "PostSearch", reason: fts },
      { table: "PostSearch_config", reason: shadow },
      { table: "PostSearch_content", reason: shadow },
      { table: "PostSearch_data", reason: shadow },
      { table: "PostSearch_docsize", reason: shadow },
      { table: "PostSearch_idx", reason: shadow },
      { table: "_prisma_migrations", reason: "PostgreSQL keeps the history prisma migrate deploy wrote for its own migrations" },
      { table: "sqlite_sequence", reason: "SQLite's own bookkeeping" },
    ]);
    expect(await query(s.url, `SELECT count(*)::int AS n FROM "Post"`)).toEqual([{ n: 3 }]);
  });
});

describe("PostgreSQL errors inside COPY name the table, source rowid, column, value, message and DETAIL", () => {
  const cases: { kind: string; options: SetupOptions; expected: string }[] = [
    {
      kind: "numeric overflow in decimal(65,30)",
      options: { mutate: (db) => db.run(`UPDATE "Post" SET price = 1e40 WHERE id = 1`) },
      expected:
        'copying Post into Post: Post.price, rowid 1, value "1e+40": PostgreSQL: numeric field overflow (DETAIL: A field with precision 65, scale 30 must round to an absolute value less than 10^35.)',
    },
    {
      kind: "a value too long for varchar(n)",
      options: { extraSql: `ALTER TABLE "Tag" ALTER COLUMN "name" TYPE varchar(7);` },
      expected: 'copying Tag into Tag: Tag.name, rowid 3, value "ünïcödé 🏷️": PostgreSQL: value too long for type character varying(7)',
    },
    {
      kind: "an enum value PostgreSQL lacks",
      options: { extraSql: `CREATE TYPE "Mime" AS ENUM ('application/octet-stream'); ALTER TABLE "Attachment" ALTER COLUMN "mime" TYPE "Mime" USING "mime"::"Mime";` },
      expected: 'copying Attachment into Attachment: Attachment.mime, rowid 2, value "application/x-escapes": PostgreSQL: invalid input value for enum "Mime": "application/x-escapes"',
    },
    {
      kind: "a NUL escape inside JSON",
      options: { mutate: (db) => db.run(`UPDATE "Post" SET metadata = '{"a": "\\u0000"}' WHERE id = 3`) },
      expected:
        'copying Post into Post: Post.metadata, rowid 3, value "{\\"a\\": \\"\\\\u0000\\"}": PostgreSQL: unsupported Unicode escape sequence (DETAIL: \\u0000 cannot be converted to text.)',
    },
    {
      kind: "an integer out of range",
      options: { mutate: (db) => db.run(`UPDATE "User" SET id = 3000000000 WHERE id = 3`) },
      expected: 'copying User into User: User.id, rowid 3000000000, value "3000000000": PostgreSQL: value "3000000000" is out of range for type integer',
    },
  ];

  it.each(cases)("$kind", async ({ options, expected }) => {
    const s = await setup(options);
    const report = await migrate(s);
    const detail = report.results.at(-1)?.detail ?? "";
    expect(detail.startsWith(`rolled back: ${expected}`), detail).toBe(true);
    expect(report.committed).toBe(false);
  });
});

describe("a lock directory left behind by a killed dry run (the reader's VFS locks with <file>.lock)", () => {
  it("is refused naming the directory to remove, instead of SQLite's bare 'database is locked'", async () => {
    const s = await setup();
    await mkdir(`${s.sqlite}.lock`);
    await expect(migrate(s, { dryRun: true })).rejects.toThrow(`${s.sqlite}.lock exists: another run is reading ${s.sqlite}, or a killed run left the directory behind; if no run is going, remove it (rmdir ${s.sqlite}.lock)`);
  });
});
