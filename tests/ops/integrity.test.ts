import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateIntegrity, type IntegrityOptions } from "../../ops/integrity";
import { main, readDomainChecks } from "../../ops/integrity/cli";
import { runChild } from "../support/spawn";
import { failures, row, sql, startIntegrityFixture, type IntegrityFixture } from "./integrity-support";

const ROOT = path.resolve(__dirname, "../..");
let fixture: IntegrityFixture;
const copy = (template?: string) => fixture.copy(template);
const validate = (url: string, options?: Partial<IntegrityOptions>) => fixture.validate(url, options);

beforeAll(async () => {
  fixture = await startIntegrityFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

describe("validateIntegrity on a clean database", () => {
  it("passes every check and names each one", async () => {
    const report = await validate(await copy());
    expect(failures(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.serverVersion).toMatch(/^16\./);
    expect(report.rowCounts).toEqual({ _prisma_migrations: 3, users: 300, orders: 900, payments: 450, webhook_events: 450 });
    expect(row(report, "connectivity").detail).toContain("read-only transaction, statement_timeout 20000 ms, one shared snapshot");
    expect(row(report, "schema: expected tables (5)").status).toBe("pass");
    expect(row(report, "migrations: _prisma_migrations")).toMatchObject({ status: "pass", detail: "Prisma: 3 migrations applied, latest 20240601000000_webhook_events" });
    expect(row(report, "orphans: orders.user_id -> users.id")).toMatchObject({ status: "pass", detail: "no orphaned rows (orders_user_id_fkey)" });
    // A unique index is verified with heapallindexed, then read in key order for duplicates.
    expect(row(report, "unique: users(email)")).toMatchObject({ status: "pass", detail: "no duplicate keys (users_email_key, read in key order after amcheck verified it)" });
    expect(row(report, "index: users_email_key")).toMatchObject({ status: "pass", detail: "bt_index_check: consistent, every heap tuple indexed" });
    expect(row(report, "index: orders_user_id_idx")).toMatchObject({ status: "pass", detail: "bt_index_check: consistent" });
    expect(row(report, "sequence: public.orders_id_seq >= max(orders.id)")).toMatchObject({ status: "pass", detail: "next value 901, column max 900" });
    expect(row(report, "domain: payments never exceed their order's total").status).toBe("pass");
    expect(report.summary).toBe(`${report.results.length} checks, 0 failed, 0 warnings`);
  });

  it("a unique index above the ordered-pass size gets its structure verified and its duplicates found by sorting the table's keys", async () => {
    const url = await copy();
    const clean = await validate(url, { orderedPassUpTo: 0 });
    expect(failures(clean)).toEqual([]);
    expect(row(clean, "unique: users(email)")).toMatchObject({ status: "pass", detail: "no duplicate keys (users_email_key, heap scan)" });
    expect(row(clean, "index: users_email_key")).toMatchObject({ status: "pass", detail: "bt_index_check: consistent" });
    // --heapallindexed verifies every index that way, so each unique index is read in key order again.
    const thorough = await validate(url, { orderedPassUpTo: 0, heapAllIndexed: true });
    expect(row(thorough, "unique: users(email)")).toMatchObject({ status: "pass", detail: "no duplicate keys (users_email_key, read in key order after amcheck verified it)" });
    // A duplicate the index missed is found in the sorted keys of the table.
    await sql(url, "UPDATE pg_index SET indisready = false WHERE indexrelid = 'users_email_key'::regclass");
    await sql(url, "INSERT INTO users (email, name) VALUES ('user7@example.com', 'Duplicate')");
    await sql(url, "UPDATE pg_index SET indisready = true WHERE indexrelid = 'users_email_key'::regclass");
    const damaged = await validate(url, { orderedPassUpTo: 0 });
    expect(failures(damaged)).toEqual(["unique: users(email)"]);
    expect(row(damaged, "unique: users(email)").detail).toBe("1 key appears more than once (e.g. (user7@example.com)) despite users_email_key");
  });

  it("once aborted, starts no further check and reports how many were not run", async () => {
    const controller = new AbortController();
    let planned = 0;
    const report = await validate(await copy(), {
      concurrency: 1,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === "planned") planned = Object.values(event.totals).reduce((sum, n) => sum + (n ?? 0), 0);
        if (event.kind === "finished") controller.abort();
      },
    });
    expect(planned).toBeGreaterThan(2);
    expect(row(report, "integrity run")).toMatchObject({ status: "fail", detail: `interrupted: ${planned - 1} of ${planned} checks not run` });
    expect(report.passed).toBe(false);
  });

  it("says when amcheck is not installed, as a warning that does not fail", async () => {
    const report = await validate(await copy("seeded_plain"));
    expect(row(report, "amcheck")).toMatchObject({
      status: "warn",
      detail: "amcheck is available but not installed here; index structure is not verified (CREATE EXTENSION amcheck as an admin to enable it)",
    });
    expect(report.results.some((r) => r.check.startsWith("index: "))).toBe(false);
    expect(row(report, "unique: users(email)")).toMatchObject({ status: "pass", detail: "no duplicate keys (users_email_key, heap scan)" });
    expect(report.passed).toBe(true);
  });
});

describe("each kind of violation is detected and named", () => {
  it("orphans behind a NOT VALID foreign key", async () => {
    const url = await copy();
    await sql(
      url,
      `ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;
       INSERT INTO orders (user_id, status, total_cents) VALUES (424242, 'paid', 100), (424243, 'paid', 100);
       ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;`,
    );
    const report = await validate(url);
    expect(failures(report)).toEqual(["orphans: orders.user_id -> users.id"]);
    expect(row(report, "orphans: orders.user_id -> users.id").detail).toBe(
      "2 orphaned rows in orders reference no users (e.g. (424242), (424243)): orders_user_id_fkey (constraint NOT VALID)",
    );
    expect(report.passed).toBe(false);
  });

  it("orphans behind a validated foreign key whose triggers were bypassed", async () => {
    const url = await copy();
    await sql(url, "SET session_replication_role = replica; DELETE FROM users WHERE id = 1;");
    const report = await validate(url);
    expect(failures(report)).toEqual(["orphans: orders.user_id -> users.id"]);
    expect(row(report, "orphans: orders.user_id -> users.id").detail).toMatch(/^3 orphaned rows in orders reference no users \(e\.g\. \(1\), \(1\), \(1\)\): orders_user_id_fkey$/);
  });

  it("orphans are found from the child's heap, not its index, and a parent index that lost entries reports none", async () => {
    const url = await copy();
    // Damaged indexes: each stops receiving entries while rows are written.
    await sql(
      url,
      `UPDATE pg_index SET indisready = false WHERE indexrelid IN ('orders_user_id_idx'::regclass, 'users_pkey'::regclass);
       SET session_replication_role = replica;
       INSERT INTO orders (user_id, status, total_cents) VALUES (525252, 'paid', 100);
       INSERT INTO users (id, email, name) VALUES (700000, 'late@example.com', 'Late');
       INSERT INTO orders (user_id, status, total_cents) VALUES (700000, 'paid', 100);
       RESET session_replication_role;
       UPDATE pg_index SET indisready = true WHERE indexrelid IN ('orders_user_id_idx'::regclass, 'users_pkey'::regclass);`,
    );
    const report = await validate(url);
    expect(row(report, "orphans: orders.user_id -> users.id")).toMatchObject({
      status: "fail",
      detail: "1 orphaned row in orders references no users (e.g. (525252)): orders_user_id_fkey",
    });
  });

  it("rows violating a NOT VALID CHECK constraint", async () => {
    const url = await copy();
    await sql(
      url,
      `ALTER TABLE payments DROP CONSTRAINT payments_amount_cents_check;
       UPDATE payments SET amount_cents = -5 WHERE id IN (1, 2);
       ALTER TABLE payments ADD CONSTRAINT payments_amount_cents_check CHECK (amount_cents > 0) NOT VALID;`,
    );
    const report = await validate(url);
    expect(failures(report)).toEqual(["check (NOT VALID): payments.payments_amount_cents_check"]);
    expect(row(report, "check (NOT VALID): payments.payments_amount_cents_check").detail).toBe(
      "2 rows violate CHECK ((amount_cents > 0)); the constraint was added NOT VALID and never validated",
    );
  });

  it("duplicate keys behind a unique index that missed them, found by a heap scan and by amcheck", async () => {
    for (const template of ["seeded", "seeded_plain"]) {
      const url = await copy(template);
      // Simulate a damaged index: it stops receiving entries while a duplicate is written.
      await sql(url, "UPDATE pg_index SET indisready = false WHERE indexrelid = 'users_email_key'::regclass");
      await sql(url, "INSERT INTO users (email, name) VALUES ('user7@example.com', 'Duplicate')");
      await sql(url, "UPDATE pg_index SET indisready = true WHERE indexrelid = 'users_email_key'::regclass");
      const report = await validate(url, { heapAllIndexed: true });
      expect(row(report, "unique: users(email)")).toMatchObject({
        status: "fail",
        detail: "1 key appears more than once (e.g. (user7@example.com)) despite users_email_key",
      });
      if (template === "seeded") {
        expect(failures(report)).toEqual(["unique: users(email)", "index: users_email_key"]);
        expect(row(report, "index: users_email_key").detail).toMatch(/heap tuple .* lacks matching index tuple within index "users_email_key"/);
      } else {
        expect(failures(report)).toEqual(["unique: users(email)"]);
      }
    }
  });

  it("a sequence behind its column's maximum", async () => {
    const url = await copy();
    await sql(url, "SELECT setval('orders_id_seq', 5)");
    const report = await validate(url);
    expect(failures(report)).toEqual(["sequence: public.orders_id_seq >= max(orders.id)"]);
    expect(row(report, "sequence: public.orders_id_seq >= max(orders.id)").detail).toBe(
      "next value 6 is not above the column's max 900: the next insert collides; fix with SELECT setval('public.orders_id_seq', 900)",
    );
  });

  it("row counts outside the tolerance of recorded counts, and a table the reference has but the restore lacks", async () => {
    const url = await copy();
    const counts = { users: 310, orders: 900, payments: 450, webhook_events: 450, _prisma_migrations: 3, audit_log: 10, audit_archive: 1 };
    const exact = await validate(url, { reference: { counts } });
    expect(failures(exact)).toEqual(["rows: audit_archive vs reference", "rows: audit_log vs reference", "rows: users vs reference"]);
    expect(row(exact, "rows: audit_archive vs reference").detail).toBe("table missing here; the reference has 1 row");
    expect(row(exact, "rows: users vs reference").detail).toBe("300 rows, reference 310 (-10; tolerance 0% = 0)");
    expect(row(exact, "rows: audit_log vs reference").detail).toBe("table missing here; the reference has 10 rows");
    const tolerant = await validate(url, { reference: { counts: { ...counts, audit_log: undefined as unknown as number, audit_archive: undefined as unknown as number } }, tolerancePercent: 5 });
    expect(row(tolerant, "rows: users vs reference")).toMatchObject({ status: "pass", detail: "300 rows, reference 310 (-10; tolerance 5% = 15)" });
  });

  it("row counts against a live reference database", async () => {
    const url = await copy();
    const reference = await copy();
    await sql(reference, "INSERT INTO users (email, name) VALUES ('extra@example.com', 'Extra')");
    const report = await validate(url, { reference: { connection: reference } });
    expect(failures(report)).toEqual(["rows: users vs reference"]);
    expect(row(report, "rows: users vs reference").detail).toBe("300 rows, reference 301 (-1; tolerance 0% = 0)");
  });

  it("a domain check that returns rows", async () => {
    const url = await copy();
    await sql(url, "UPDATE payments SET amount_cents = amount_cents + 1 WHERE id = 3");
    const report = await validate(url);
    expect(failures(report)).toEqual(["domain: payments never exceed their order's total"]);
    expect(row(report, "domain: payments never exceed their order's total").detail).toBe("1 row returned, none expected (e.g. (3))");
  });

  it("a missing expected table and an unfinished migration", async () => {
    const url = await copy();
    await sql(url, "DROP TABLE webhook_events; INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('x', 'y', '20240701000000_half_done')");
    const report = await validate(url);
    expect(failures(report)).toEqual(["schema: expected tables (5)", "migrations: _prisma_migrations"]);
    expect(row(report, "schema: expected tables (5)").detail).toContain("missing: webhook_events");
    expect(row(report, "migrations: _prisma_migrations").detail).toBe("Prisma: 1 migration started but never finished: 20240701000000_half_done (resolve with prisma migrate resolve)");
  });

  it("a domain check that tries to write fails in the read-only transaction and changes nothing", async () => {
    const url = await copy();
    const report = await validate(url, { domainChecks: [{ name: "sneaky", sql: "SELECT nextval('users_id_seq')" }] });
    expect(row(report, "domain: sneaky")).toMatchObject({ status: "fail", detail: "cannot execute nextval() in a read-only transaction" });
  });

  it("a statement timeout fails the check with the flag to raise", async () => {
    const url = await copy();
    const report = await validate(url, { statementTimeoutMs: 100, domainChecks: [{ name: "slow", sql: "SELECT 1 FROM pg_sleep(1)" }] });
    expect(row(report, "domain: slow")).toMatchObject({
      status: "fail",
      detail: "canceling statement due to statement timeout (raise --statement-timeout above 100 ms)",
    });
  });
});

describe("bad input", () => {
  it("an unreachable host fails connectivity with a fix, exit 3: nothing could be checked", async () => {
    const report = await validateIntegrity({ connection: "postgresql://u:p@127.0.0.1:1/db", expectedTables: [] });
    expect(report.passed).toBe(false);
    expect(report.exitCode).toBe(3);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]?.check).toBe("connectivity");
    expect(report.results[0]?.detail).toMatch(/^cannot connect: connect ECONNREFUSED 127\.0\.0\.1:1; check DATABASE_URL's host, port, user, password and TLS settings$/);
    expect(report.summary).toBe("1 check, 1 failed, 0 warnings: connectivity");
  });

  it("a wrong password fails connectivity", async () => {
    const report = await validateIntegrity({ connection: fixture.pg.url().replace(fixture.pg.password, "wrong"), expectedTables: [] });
    expect(report.results[0]?.detail).toContain('password authentication failed for user "postgres"');
    expect(report.exitCode).toBe(3);
  });

  it("out-of-range options are refused before connecting", async () => {
    await expect(validateIntegrity({ connection: "postgresql://x", concurrency: 0 })).rejects.toThrow("concurrency is 0; use a whole number from 1 to 32");
    await expect(validateIntegrity({ connection: "postgresql://x", tolerancePercent: 120 })).rejects.toThrow("tolerance is 120; use a percentage from 0 to 100");
  });
});

describe("the CLI", () => {
  it("`DATABASE_URL=... npm run ops:db:validate-integrity` works as the runbook writes it, and exits 1 on a violation", async () => {
    const url = await copy();
    const run = promisify(execFile);
    const clean = await run("npm", ["run", "--silent", "ops:db:validate-integrity", "--", "--json", "--expected-tables", "users,orders"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url },
    });
    const parsed = JSON.parse(clean.stdout) as { passed: boolean; rowCounts: Record<string, number> };
    expect(parsed.passed).toBe(true);
    expect(parsed.rowCounts.users).toBe(300);
    await sql(url, "SELECT setval('users_id_seq', 1)");
    const failed = await run("npm", ["run", "--silent", "ops:db:validate-integrity"], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url } }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain("FAIL");
    expect(failed?.stdout).toContain("sequence: public.users_id_seq >=");
  });

  it("--help exits 0, an unknown flag exits 2 with a did-you-mean, and --json prints one JSON document for exit 2 and exit 3", async () => {
    const url = await copy();
    await sql(url, "CREATE ROLE partial LOGIN PASSWORD 'partial'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO partial; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO partial");
    const npm = (args: string[], databaseUrl = url) =>
      promisify(execFile)("npm", ["run", "--silent", "ops:db:validate-integrity", "--", ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl } }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const [help, typo, incomplete] = await Promise.all([
      npm(["--help"]),
      npm(["--json", "--heapallindexd"]),
      npm(["--json"], url.replace(/\/\/[^@]+@/, "//partial:partial@")),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("3  incomplete: the command could not check or finish everything it should");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("(Did you mean --heapallindexed?)");
    expect(JSON.parse(typo.stdout)).toEqual({ command: "ops:db:validate-integrity", exitCode: 2, error: "unknown option '--heapallindexd'\n(Did you mean --heapallindexed?)" });
    expect(incomplete.code).toBe(3);
    const report = JSON.parse(incomplete.stdout) as { passed: boolean; exitCode: number; results: { check: string; status: string }[] };
    expect(report).toMatchObject({ passed: false, exitCode: 3 });
    expect(report.results.filter((r) => r.status !== "pass" && r.status !== "info").map((r) => `${r.status} ${r.check}`)).toEqual([
      "skip privilege: EXECUTE on function public.bt_index_check(regclass, boolean)",
    ]);
  });

  it("reads domain checks and reference counts from files, and refuses a missing DATABASE_URL", async () => {
    const url = await copy();
    const dir = mkdtempSync(path.join(tmpdir(), "integrity-cli-"));
    const checks = path.join(dir, "checks.yaml");
    writeFileSync(checks, "- name: no big orders\n  sql: SELECT id FROM orders WHERE total_cents > 30000\n");
    const counts = path.join(dir, "counts.json");
    writeFileSync(counts, JSON.stringify({ users: 300 }));
    let out = "";
    let err = "";
    const io = { stdout: (text: string) => void (out += text), stderr: (text: string) => void (err += text) };
    const code = await main(["--json", "--domain-checks", checks, "--reference-counts", counts], { DATABASE_URL: url }, io);
    expect(code).toBe(1);
    const parsed = JSON.parse(out) as { results: { check: string; status: string }[] };
    expect(parsed.results.find((r) => r.check === "domain: no big orders")?.status).toBe("fail");
    expect(parsed.results.find((r) => r.check === "rows: users vs reference")?.status).toBe("pass");
    expect(await main([], {}, io)).toBe(2);
    expect(err).toContain("ops:db:validate-integrity: DATABASE_URL is not set: run DATABASE_URL=postgresql://user:password@host:5432/db npm run ops:db:validate-integrity");
    writeFileSync(checks, "- name: x\n");
    out = "";
    expect(await main(["--json", "--domain-checks", checks], { DATABASE_URL: url }, io)).toBe(2);
    expect(JSON.parse(out)).toMatchObject({ exitCode: 2, error: expect.stringContaining(`--domain-checks ${checks}: 0.sql:`) });
  });

  it("without a terminal, prints one summary line per category on stderr whose counts are the report's", async () => {
    const url = await copy();
    // Damage of several kinds, and a role that may not run amcheck nor read webhook_events.
    await sql(
      url,
      `SET session_replication_role = replica; DELETE FROM users WHERE id = 1; RESET session_replication_role;
       ALTER TABLE orders ADD CONSTRAINT small_orders CHECK (total_cents < 20000) NOT VALID;
       SELECT setval('payments_id_seq', 5);
       CREATE ROLE summarized LOGIN PASSWORD 'summarized'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO summarized;
       GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO summarized; REVOKE SELECT ON webhook_events FROM summarized;`,
    );
    const run = await runChild("npm", ["run", "--silent", "ops:db:validate-integrity", "--", "--json"], {
      ...process.env,
      DATABASE_URL: url.replace(/\/\/[^@]+@/, "//summarized:summarized@"),
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { results: { check: string; status: string; category: string }[] };
    const expected = new Map<string, { rows: number; failed: number }>();
    for (const r of report.results) {
      const counts = expected.get(r.category) ?? { rows: 0, failed: 0 };
      expected.set(r.category, { rows: counts.rows + 1, failed: counts.failed + (r.status === "fail" ? 1 : 0) });
    }
    const lines = run.stderr.trimEnd().split("\n");
    const shown = new Map(
      lines.map((line) => {
        const m = /^([a-z ]+): (\d+) (checks?|findings?)\b(?:, (\d+) failed)?/.exec(line);
        if (!m) throw new Error(`not a summary line: ${line}`);
        expect(m[3]).toBe(Number(m[2]) === 1 ? m[3]?.replace(/s$/, "") : `${m[3]?.replace(/s$/, "")}s`);
        return [m[1] as string, { rows: Number(m[2]), failed: Number(m[4] ?? 0) }];
      }),
    );
    expect(lines).toHaveLength(shown.size);
    expect(shown).toEqual(expected);
    expect([...shown.keys()]).toEqual(expect.arrayContaining(["connectivity", "privileges", "foreign keys", "constraints", "sequences"]));
    expect(lines.length).toBeLessThan(report.results.length);
    expect(lines).toContain("connectivity: 1 check, 0 failed");
    expect(lines).toContain("privileges: 2 findings: not everything could be checked");
    expect(shown.get("foreign keys")?.failed).toBe(1);
    expect(shown.get("constraints")?.failed).toBe(1);
    expect(shown.get("sequences")?.failed).toBe(1);
  });

  it("a missing --reference-counts file and a --domain-checks file with bad YAML are named with the fix, exit 2", async () => {
    const url = await copy();
    const dir = mkdtempSync(path.join(tmpdir(), "integrity-files-"));
    const missing = path.join(dir, "counts.json");
    const badYaml = path.join(dir, "checks.yaml");
    writeFileSync(badYaml, "- name: no big orders\n  sql: SELECT id FROM orders\n- name: [unclosed\n  sql: SELECT 1\n");
    const npm = (args: string[]) => runChild("npm", ["run", "--silent", "ops:db:validate-integrity", "--", ...args], { ...process.env, DATABASE_URL: url });
    const [counts, yaml, json] = await Promise.all([npm(["--reference-counts", missing]), npm(["--domain-checks", badYaml]), npm(["--json", "--reference-counts", missing])]);
    expect(counts.code).toBe(2);
    expect(counts.stderr).toBe(
      `ops:db:validate-integrity: --reference-counts ${missing}: no such file (${missing}); fix the path, or write the file, for example: { "users": 1200, "orders": 3600 } (whole row counts per table)\n`,
    );
    expect(counts.stderr).not.toContain("ENOENT");
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(new RegExp(`^ops:db:validate-integrity: --domain-checks ${badYaml.replace(/[.]/g, "\\.")}:4:3: .+; fix the YAML syntax at that line and column\n$`));
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 2, error: expect.stringContaining(`--reference-counts ${missing}: no such file`) });
  });

  it("reads a checks file saved with a byte-order mark, and refuses a device instead of reading it forever", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "integrity-bom-"));
    const bom = path.join(dir, "checks.yaml");
    writeFileSync(bom, "\uFEFF- name: no negative totals\n  sql: SELECT id FROM orders WHERE total_cents < 0\n");
    expect(readDomainChecks(bom)).toEqual([{ name: "no negative totals", sql: "SELECT id FROM orders WHERE total_cents < 0" }]);
    expect(() => readDomainChecks("/dev/zero")).toThrow("--domain-checks /dev/zero: not a regular file (a device or a pipe)");
  });
});
