import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, readdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CutoverReport } from "../../ops/cutover/migrate";
import { exitCodeFor } from "../../ops/lib/report";
import { blob, openForWriting, type Setup, ESCAPE_BLOB, LARGE_BLOB_BYTES, query, ROWS, TRICKY_TEXT } from "./cutover-fixture";
import { cutoverSuite, DATA_TABLES, failures } from "./cutover-suite";

const suite = cutoverSuite("cutover-test");
const { setup, migrate } = suite;

async function counts(url: string): Promise<Record<string, number>> {
  const rows = await query<{ t: string; n: string }>(
    url,
    DATA_TABLES.map((t) => `SELECT '${t}' AS t, count(*)::text AS n FROM "${t}"`).join(" UNION ALL "),
  );
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

const EXPECTED_COUNTS = Object.fromEntries(DATA_TABLES.map((t) => [t, ROWS[t].length]));
const EMPTY_COUNTS = Object.fromEntries(DATA_TABLES.map((t) => [t, 0]));

describe("migrateSqliteToPostgres: a clean migration", () => {
  let s: Setup;
  let report: CutoverReport;
  beforeAll(async () => {
    s = await setup();
    report = await migrate(s);
  });

  it("commits with every check passing", () => {
    expect(failures(report)).toEqual([]);
    expect(report.committed).toBe(true);
    expect(exitCodeFor(report.results)).toBe(0);
    expect(report.rows).toBe(Object.values(EXPECTED_COUNTS).reduce((a, b) => a + b, 0));
  });

  it("loads parents before children and skips Prisma's SQLite migration history", () => {
    expect(report.plan?.tables.map((t) => t.target)).toEqual(["Tag", "User", "Post", "Attachment", "Comment", "_PostToTag"]);
    expect(report.plan?.skipped).toEqual([
      { table: "_prisma_migrations", reason: "PostgreSQL keeps the history prisma migrate deploy wrote for its own migrations" },
      { table: "sqlite_sequence", reason: "SQLite's own bookkeeping" },
    ]);
    expect(report.plan?.cyclicKeys.map((k) => k.name)).toEqual(["Comment_parentId_fkey"]);
  });

  it("reports per-table counts and checksums as passing rows", () => {
    for (const table of DATA_TABLES) {
      expect(report.results.find((r) => r.check === `rows: ${table}`)).toMatchObject({
        status: "pass",
        detail: `source ${ROWS[table].length} (streamed ${ROWS[table].length}), target ${ROWS[table].length}`,
      });
      expect(report.results.find((r) => r.check === `checksum: ${table}`)?.status).toBe("pass");
    }
    expect(report.results.filter((r) => r.check.startsWith("orphans: ")).map((r) => [r.check, r.status])).toEqual([
      ["orphans: Attachment.postId -> Post.id", "pass"],
      ["orphans: Comment.parentId -> Comment.id", "pass"],
      ["orphans: Comment.postId -> Post.id", "pass"],
      ["orphans: Post.authorId -> User.id", "pass"],
      ["orphans: _PostToTag.A -> Post.id", "pass"],
      ["orphans: _PostToTag.B -> Tag.id", "pass"],
    ]);
  });

  it("copies every row with counts equal to the source", async () => {
    expect(await counts(s.url)).toEqual(EXPECTED_COUNTS);
  });

  it("maps DateTime epoch milliseconds and ISO text to the exact instant (UTC)", async () => {
    const users = await query<{ id: number; created: string; updated: string; admin: boolean; name: string | null; email: string }>(
      s.url,
      `SELECT id, "createdAt"::text AS created, "updatedAt"::text AS updated, "isAdmin" AS admin, name, email FROM "User" ORDER BY id`,
    );
    expect(users).toEqual([
      { id: 1, created: "2024-01-01 00:00:00", updated: "2024-02-29 23:59:59.999", admin: true, name: "Ada Lovelace", email: "ada@example.com" },
      { id: 2, created: "2024-01-01 00:00:00.123", updated: "2024-03-01 12:00:00", admin: false, name: TRICKY_TEXT, email: "zoë@example.com" },
      { id: 3, created: "1969-12-31 00:00:00", updated: "2024-03-01 12:00:00.123", admin: false, name: null, email: "nobody@example.com" },
    ]);
    const posts = await query<{ id: number; published: string | null }>(
      s.url,
      `SELECT id, "publishedAt"::text AS published FROM "Post" ORDER BY id`,
    );
    expect(posts).toEqual([
      { id: 1, published: "2024-03-01 00:00:00+00" },
      { id: 2, published: null },
      { id: 3, published: "2024-03-01 00:00:00+00" },
    ]);
  });

  it("keeps 64-bit integers beyond 2^53, reals, decimals and JSON exactly", async () => {
    const posts = await query<{ id: number; views: string; rating: string; price: string; metadata: string | null; published: boolean }>(
      s.url,
      `SELECT id, views::text AS views, rating::text AS rating, trim_scale(price)::text AS price, metadata::text AS metadata, published FROM "Post" ORDER BY id`,
    );
    expect(posts).toEqual([
      { id: 1, views: "9007199254740993", rating: "0.1", price: "19.99", metadata: '{"a": [1.0, 200, 0, "x"], "z": 1, "nested": {"a": null, "bb": true}}', published: true },
      { id: 2, views: "9223372036854775807", rating: "0", price: "3", metadata: '{"a": 2, "ü": "é\\n"}', published: false },
      { id: 3, views: "-9223372036854775808", rating: "1e+300", price: "0.5", metadata: null, published: false },
    ]);
    const comments = await query<{ id: string; parent: string | null; body: string; settings: string | null }>(
      s.url,
      `SELECT id, "parentId" AS parent, body, settings::text AS settings FROM "Comment" ORDER BY id`,
    );
    expect(comments).toEqual([
      { id: "c-1", parent: null, body: TRICKY_TEXT, settings: null },
      { id: "c-2", parent: "c-1", body: "a reply", settings: '{ "keep" :  "spacing" }' },
    ]);
    const tags = await query<{ name: string }>(s.url, `SELECT name FROM "Tag" ORDER BY id`);
    expect(tags.map((t) => t.name)).toEqual(["news", "drop-me", "ünïcödé 🏷️"]);
  });

  it("stores blobs as bytea byte for byte, including a several-MB one", async () => {
    const rows = await query<{ id: number; data: Buffer; mime: string }>(s.url, `SELECT id, data, mime FROM "Attachment" ORDER BY id`);
    expect(rows.map((r) => r.data.length)).toEqual([LARGE_BLOB_BYTES, ESCAPE_BLOB.length]);
    expect(createHash("sha256").update(rows[0]?.data as Buffer).digest("hex")).toBe(createHash("sha256").update(blob(LARGE_BLOB_BYTES, 7)).digest("hex"));
    expect([...(rows[1]?.data as Buffer)]).toEqual([...ESCAPE_BLOB]);
  });

  it("resets every sequence to its column maximum", async () => {
    const next = await query<{ user: string; post: string; attachment: string; tag: string }>(
      s.url,
      `SELECT nextval('"User_id_seq"')::text AS user, nextval('"Post_id_seq"')::text AS post,
              nextval('"Attachment_id_seq"')::text AS attachment, nextval('"Tag_id_seq"')::text AS tag`,
    );
    expect(next).toEqual([{ user: "4", post: "4", attachment: "3", tag: "4" }]);
    expect(report.results.find((r) => r.check === 'sequence: public."User_id_seq"')).toMatchObject({ status: "pass", detail: "next value 4 (User.id max 3, SQLite sqlite_sequence 3)" });
  });

  it("leaves PostgreSQL's migration history alone and the self-reference NOT DEFERRABLE again", async () => {
    expect(await query(s.url, `SELECT migration_name FROM "_prisma_migrations"`)).toEqual([{ migration_name: "20240101000000_init_postgres" }]);
    expect(await query(s.url, `SELECT condeferrable, condeferred FROM pg_constraint WHERE conname = 'Comment_parentId_fkey'`)).toEqual([
      { condeferrable: false, condeferred: false },
    ]);
  });

  it("writes a snapshot identical to the source with a sha256sum-format checksum file", async () => {
    const source = await readFile(s.sqlite);
    const digest = createHash("sha256").update(source).digest("hex");
    expect(report.snapshot.sha256).toBe(digest);
    const files = (await readdir(s.snapshots)).filter((f) => f !== ".gitignore").sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^dev\.db\.\d{8}T\d{6}\.\d{3}Z$/);
    expect(files[1]).toBe(`${files[0]}.sha256`);
    expect((await readFile(path.join(s.snapshots, files[0] as string))).equals(source)).toBe(true);
    expect(await readFile(path.join(s.snapshots, files[1] as string), "utf8")).toBe(`${digest}  ${files[0]}\n`);
  });
});

describe("migrateSqliteToPostgres: failures roll back and leave the target as it was", () => {
  async function expectUntouched(s: Setup): Promise<void> {
    expect(await counts(s.url)).toEqual(EMPTY_COUNTS);
    // setval is not transactional: the sequences must never have been touched.
    expect(await query(s.url, `SELECT last_value::text AS last, is_called FROM "User_id_seq"`)).toEqual([{ last: "1", is_called: false }]);
  }

  it("rolls back when a target trigger drops rows (count mismatch)", async () => {
    const s = await setup({
      extraSql: `CREATE FUNCTION drop_some() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.mime = 'application/x-escapes' THEN RETURN NULL; END IF; RETURN NEW; END $$;
                 CREATE TRIGGER drop_some BEFORE INSERT ON "Attachment" FOR EACH ROW EXECUTE FUNCTION drop_some();`,
    });
    const report = await migrate(s);
    expect(report.committed).toBe(false);
    expect(report.results.find((r) => r.check === "rows: Attachment")).toMatchObject({ status: "fail", detail: "source 2 (streamed 2), target 1" });
    expect(failures(report).map((f) => f.split(":")[0])).toEqual(["rows", "checksum", "transaction"]);
    expect(report.results.at(-1)).toMatchObject({ check: "transaction", status: "fail", detail: "rolled back: PostgreSQL is unchanged. Keep production on the previous release" });
    expect(exitCodeFor(report.results)).toBe(1);
    await expectUntouched(s);
  });

  it("rolls back when a trigger changes a value (checksum mismatch with equal counts)", async () => {
    const s = await setup({
      extraSql: `CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.title := upper(NEW.title); RETURN NEW; END $$;
                 CREATE TRIGGER shout BEFORE INSERT ON "Post" FOR EACH ROW EXECUTE FUNCTION shout();`,
    });
    const report = await migrate(s);
    expect(report.results.find((r) => r.check === "rows: Post")?.status).toBe("pass");
    expect(report.results.find((r) => r.check === "checksum: Post")).toMatchObject({ status: "fail" });
    expect(report.results.find((r) => r.check === "checksum: Post")?.detail).toContain("stored values differ from the source");
    expect(failures(report).map((f) => f.split(":")[0])).toEqual(["checksum", "transaction"]);
    await expectUntouched(s);
  });

  it("rolls back when a trigger changes a jsonb value (its digest is computed apart from the other columns)", async () => {
    const s = await setup({
      extraSql: `CREATE FUNCTION tag_metadata() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.metadata := NEW.metadata || '{"added": 1}'; RETURN NEW; END $$;
                 CREATE TRIGGER tag_metadata BEFORE INSERT ON "Post" FOR EACH ROW EXECUTE FUNCTION tag_metadata();`,
    });
    const report = await migrate(s);
    expect(report.results.find((r) => r.check === "rows: Post")?.status).toBe("pass");
    expect(report.results.find((r) => r.check === "checksum: Post")?.detail).toContain("stored values differ from the source");
    expect(failures(report).map((f) => f.split(":")[0])).toEqual(["checksum", "transaction"]);
    await expectUntouched(s);
  });

  it("rolls back when the source file changes between the snapshot and the commit", async () => {
    const s = await setup();
    const report = await migrate(s, {
      beforeFinalCheck: async () => {
        const db = openForWriting(s.sqlite);
        db.run(`INSERT INTO "Tag" (name) VALUES ('written during the cutover')`);
        db.close();
      },
    });
    expect(report.committed).toBe(false);
    const changed = report.results.find((r) => r.check === "source unchanged");
    expect(changed?.status).toBe("fail");
    expect(changed?.detail).toMatch(/changed during the run \(.*sha256 .*\): writes to the old environment were not stopped$/);
    await expectUntouched(s);
  });

  it("rolls back and names the table, column and row for a value it cannot map (NUL in text)", async () => {
    const s = await setup({ mutate: (db) => db.run(`UPDATE "Tag" SET name = 'bad' || char(0) || 'name' WHERE id = 3`) });
    const report = await migrate(s);
    expect(report.results.at(-1)).toEqual({
      check: "transaction",
      status: "fail",
      detail: 'rolled back: copying Tag into Tag: Tag.name, rowid 3: cannot map text "bad\\u0000name" to a text column: PostgreSQL text cannot hold NUL (U+0000) characters',
    });
    await expectUntouched(s);
  });

  it("rolls back on a boolean that is neither 0 nor 1", async () => {
    const s = await setup({ mutate: (db) => db.run(`UPDATE "User" SET "isAdmin" = 2 WHERE id = 2`) });
    const report = await migrate(s);
    expect(report.results.at(-1)?.detail).toBe(
      "rolled back: copying User into User: User.isAdmin, rowid 2: cannot map number 2 to a boolean column: Prisma stores booleans as 0 or 1",
    );
    await expectUntouched(s);
  });

  it("rolls back when a domain check fails, and reports passing ones", async () => {
    const s = await setup();
    const checks = path.join(path.dirname(s.sqlite), "checks.yaml");
    await writeFile(
      checks,
      [
        "- name: admins carried over",
        '  source: SELECT count(*) FROM "User" WHERE "isAdmin" = 1',
        '  target: SELECT count(*) FROM "User" WHERE "isAdmin"',
        "- name: views beyond 2^53 compare exactly",
        '  source: SELECT min("views") FROM "Post" WHERE "views" > 0',
        '  target: SELECT min("views") FROM "Post" WHERE "views" > 0',
        "- name: no untitled posts",
        `  sql: SELECT id FROM "Post" WHERE title = ''`,
        "- name: every tag is news",
        '  target: SELECT count(*) FROM "Tag" WHERE name <> \'news\'',
        "  expect: 0",
      ].join("\n"),
    );
    const report = await migrate(s, { domainChecksFile: checks });
    expect(report.results.filter((r) => r.check.startsWith("domain: ")).map(({ check, status, detail }) => ({ check, status, detail }))).toEqual([
      { check: "domain: admins carried over", status: "pass", detail: "source 1, target 1" },
      { check: "domain: views beyond 2^53 compare exactly", status: "pass", detail: "source 9007199254740993, target 9007199254740993" },
      { check: "domain: no untitled posts", status: "pass", detail: "no violating rows" },
      { check: "domain: every tag is news", status: "fail", detail: "expected 0, target 2" },
    ]);
    expect(report.committed).toBe(false);
    await expectUntouched(s);
  });

  it("refuses a source whose foreign keys are already broken, before writing anything", async () => {
    const s = await setup({ mutate: (db) => db.run(`INSERT INTO "Post" (id, title, "authorId") VALUES (99, 'orphan', 42)`) });
    const report = await migrate(s);
    expect(report.results.find((r) => r.check === "source foreign keys: Post")).toEqual({
      check: "source foreign keys: Post",
      status: "fail",
      detail: "1 row(s) in the SQLite source reference missing rows (PRAGMA foreign_key_check); fix the source, PostgreSQL would reject them",
    });
    expect(report.results.some((r) => r.check === "transaction")).toBe(false);
    await expectUntouched(s);
  });

  it("refuses a plan with a SQLite table or column the target lacks", async () => {
    const s = await setup({ mutate: (db) => db.exec(`CREATE TABLE "Legacy" (id INTEGER PRIMARY KEY); ALTER TABLE "Tag" ADD COLUMN "color" TEXT`) });
    const report = await migrate(s);
    expect(failures(report)).toEqual([
      'plan: table Legacy (0 rows) has no table in PostgreSQL schema "public": run the application\'s migrations (prisma migrate deploy) against the target first',
      "plan: column Tag.color has no column in Tag: its values would be lost",
    ]);
    await expectUntouched(s);
  });

  it("refuses a database with a pending write-ahead log", async () => {
    const s = await setup();
    await writeFile(`${s.sqlite}-wal`, "pending");
    await expect(migrate(s)).rejects.toThrow(`${s.sqlite}-wal exists (7 bytes): the database is in WAL mode and has writes in its -wal, outside the main file`);
    expect(existsSync(s.snapshots)).toBe(false);
  });

  it("refuses a hot journal with its own fix (a rollback, not a WAL checkpoint)", async () => {
    const s = await setup();
    await writeFile(`${s.sqlite}-journal`, "interrupted");
    await expect(migrate(s)).rejects.toThrow(`${s.sqlite}-journal exists (11 bytes): the database has writes outside the main file. Stop writes to the old environment, then let SQLite roll the interrupted transaction back`);
    expect(existsSync(s.snapshots)).toBe(false);
  });
});

describe("migrateSqliteToPostgres: rows stored out of load order", () => {
  it("falls back to an order-independent comparison and still commits when the values match", async () => {
    // An AFTER INSERT trigger that rewrites row 1 with the same values moves it behind the others.
    const s = await setup({
      extraSql: `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE "Tag" SET name = name WHERE id = NEW.id; RETURN NULL; END $$;
                 CREATE TRIGGER touch AFTER INSERT ON "Tag" FOR EACH ROW WHEN (NEW.id = 1) EXECUTE FUNCTION touch();`,
    });
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(report.results.find((r) => r.check === "checksum: Tag")?.detail).toMatch(/^2 columns match as a set of rows \(stored out of load order; sum of line hashes [0-9a-f]{26}\)$/);
    expect(report.results.find((r) => r.check === "checksum: User")?.detail).toMatch(/^6 columns, byte-identical in load order \(sha256 [0-9a-f]{16}\.\.\.\)$/);
    expect(await query(s.url, `SELECT id, name FROM "Tag" ORDER BY id`)).toEqual(ROWS.Tag.map(([id, name]) => ({ id, name })));
  });
});

describe("migrateSqliteToPostgres: a non-empty target", () => {
  it("is refused without --truncate and replaced with it", async () => {
    const s = await setup();
    expect((await migrate(s)).committed).toBe(true);

    const refused = await migrate(s);
    expect(refused.committed).toBe(false);
    expect(refused.results.find((r) => r.check === "target empty")).toEqual({
      check: "target empty",
      status: "fail",
      detail: "Tag, User, Post, Attachment, Comment, _PostToTag already hold rows; refusing to mix data. Pass --truncate to replace them (inside the same transaction)",
    });
    expect(exitCodeFor(refused.results)).toBe(1);
    expect(await counts(s.url)).toEqual(EXPECTED_COUNTS);

    const replaced = await migrate(s, { truncate: true });
    expect(failures(replaced)).toEqual([]);
    expect(replaced.committed).toBe(true);
    expect(replaced.results.find((r) => r.check === "target empty")?.status).toBe("warn");
    expect(await counts(s.url)).toEqual(EXPECTED_COUNTS);
  });
});

describe("migrateSqliteToPostgres: --dry-run", () => {
  it("prints the plan and writes nothing, neither snapshot nor rows", async () => {
    const s = await setup();
    const lines: string[] = [];
    const report = await migrate(s, { dryRun: true, log: (line) => lines.push(line) });
    expect(report.dryRun).toBe(true);
    expect(report.committed).toBe(false);
    expect(exitCodeFor(report.results)).toBe(0);
    expect(report.snapshot.path).toBeUndefined();
    expect(existsSync(s.snapshots)).toBe(false);
    expect(await counts(s.url)).toEqual(EMPTY_COUNTS);
    const plan = lines.join("\n").split("\n");
    expect(plan[0]).toBe('Plan: 6 tables, 16 rows into schema "public", in foreign-key order');
    expect(plan).toContain("  1. Tag -> Tag (3 rows)");
    expect(plan).toContain("       updatedAt: DATETIME -> timestamp(3) without time zone [epoch integers or ISO text, stored as UTC]");
    expect(plan).toContain(
      "       createdAt: DATETIME -> timestamp(3) without time zone [epoch integers or ISO text, stored as UTC; 3 integers read as epoch milliseconds (from the values: 1969-12-31 to 2024-01-01; --datetime-unit User.createdAt=... overrides)]",
    );
    expect(plan).toContain("       isAdmin: BOOLEAN -> boolean [0/1 (or true/false text)]");
    expect(plan).toContain("       data: BLOB -> bytea [blob (text as UTF-8 bytes)]");
    expect(plan).toContain('       id: sequence public."User_id_seq" reset past the column maximum or past sqlite_sequence\'s 3 (ids already handed out), whichever is higher');
    expect(plan).toContain("  cycle: Comment.Comment_parentId_fkey -> Comment is checked at the end of the load");
  });
});
