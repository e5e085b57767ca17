import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import requireFromString from "require-from-string";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropLocalSnapshots, sourceHash, takeLocalSnapshot } from "../../ops/restore";
import { SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import type { IntegrityCheckInputs, IntegrityCheckOutputs } from "../../providers/integrityCheck";
import type { RestoreDrillInputs, RestoreDrillOutputs } from "../../providers/restoreDrill";
import { databaseNames, query, startPostgres, type PostgresServer } from "../support/postgres";

/**
 * The providers in the form the engine runs them: serialized by `pulumi up`'s code path in a plain
 * Node process (ts-node, not vite, whose transform changes the text), loaded with
 * require-from-string exactly as @pulumi/pulumi/cmd/dynamic-provider does, and run against a real
 * PostgreSQL server.
 */

const ROOT = path.resolve(__dirname, "../..");

interface Provider<I, O> {
  create(inputs: I): Promise<{ id: string; outs: O }>;
  diff(id: string, olds: O, news: I): Promise<{ changes: boolean; replaces: string[] }>;
  read(id: string, props: O): Promise<{ id?: string; props?: O }>;
  delete(id: string, props: O): Promise<void>;
}

let pg: PostgresServer;
let drillText: string;
let checkText: string;
let records: string;

async function serialize(which: "restoreDrill" | "integrityCheck"): Promise<string> {
  const out = path.join(await mkdtemp(path.join(tmpdir(), "provider-")), `${which}.js`);
  await promisify(execFile)(process.execPath, ["-r", "ts-node/register/transpile-only", "tests/providers/support/serialize.ts", which, out], { cwd: ROOT });
  return readFile(out, "utf8");
}

/** What the engine does with the `__provider` string (getProvider in cmd/dynamic-provider/index.js). */
function load<I, O>(text: string): Provider<I, O> {
  return (requireFromString(text) as { handler(): Provider<I, O> }).handler();
}

const databases = () => databaseNames(pg);
const sourceState = async () => JSON.stringify(await query(pg.url("app"), "SELECT (SELECT count(*) FROM orders) o, (SELECT last_value FROM orders_id_seq) s"));

function drillInputs(overrides: Partial<RestoreDrillInputs> = {}): RestoreDrillInputs {
  return {
    window: "2025-W03",
    mode: "snapshot",
    temporaryPrefix: "drill",
    backend: { kind: "local", sourceDatabase: "app" },
    adminUrl: pg.url(),
    checks: { expectedTables: [...SAMPLE_TABLES], tolerancePercent: 0, statementTimeoutMs: 30_000 },
    publish: { directory: records },
    ...overrides,
  };
}

beforeAll(async () => {
  [drillText, checkText, pg] = await Promise.all([serialize("restoreDrill"), serialize("integrityCheck"), startPostgres()]);
  await seedSampleDatabase(await pg.createDatabase("app"), 150);
  await takeLocalSnapshot(pg.url(), "app", new Date("2025-01-15T03:00:00Z"));
  records = await mkdtemp(path.join(tmpdir(), "drill-records-"));
}, 180_000);

afterAll(async () => {
  await pg?.stop();
});

describe("the serialized RestoreDrill provider", () => {
  it("captures plain data only: the project root as a string, no clients, no secrets, no ts-node, no signal handlers", () => {
    expect(drillText).toContain(`var __shared_1_OPS_LOCATION = {root: ${JSON.stringify(ROOT)}};`);
    expect(drillText).toContain('(0, shared_1.loadOps)(shared_1.OPS_LOCATION, "ops/restore/index")');
    expect(drillText).not.toMatch(/new (Pool|Client|RDSClient)\(/);
    expect(drillText).not.toContain("postgresql://");
    expect(drillText).not.toContain("ts-node");
    expect(drillText).not.toMatch(/process\.(exit|on)\(/);
  });

  it("create runs the drill for real: outputs, a published record, the temporary database gone, the source untouched", async () => {
    const before = await sourceState();
    const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(drillText);
    const { id, outs } = await provider.create(drillInputs());
    expect(id).toBe(`127.0.0.1:${pg.port}/app@2025-W03`);
    expect(outs).toMatchObject({
      window: "2025-W03",
      snapshotId: "app__snap_20250115030000000",
      restoreMode: "snapshot",
      passed: true,
      adminUrl: pg.url(),
    });
    expect(outs.rtoSeconds).toBeTypeOf("number");
    expect(outs.integritySummary).toMatch(/^\d+ checks, 0 failed, 0 warnings$/);
    expect(outs.temporaryId).toBe(`drill_2025w03_${sourceHash(`127.0.0.1:${pg.port}/app`)}`);
    expect(outs.recordLocation).toMatch(/-2025-W03\.json$/);
    expect(Date.parse(outs.finishedAt)).toBeGreaterThanOrEqual(Date.parse(outs.startedAt));
    expect(await databases()).toEqual(["app", "app__snap_20250115030000000", "postgres"]);
    expect(await sourceState()).toBe(before);
    const files = await readdir(records);
    expect(files.some((f) => f.endsWith("-2025-W03.json"))).toBe(true);

    // diff: the same inputs change nothing; a new week (or any drill input) replaces, so the drill runs again.
    expect(await provider.diff(id, outs, drillInputs())).toEqual({ changes: false, replaces: [] });
    expect(await provider.diff(id, outs, drillInputs({ window: "2025-W04" }))).toEqual({ changes: true, replaces: ["window"] });
    expect(await provider.diff(id, outs, drillInputs({ mode: "pitr", temporaryPrefix: "x" }))).toEqual({ changes: true, replaces: ["mode", "temporaryPrefix"] });

    // read: the drill stays while its record exists; refresh drops it once the record is gone.
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });

    // delete: nothing left to delete; a temporary database a crash left behind is dropped.
    await provider.delete(id, outs);
    await pg.createDatabase(outs.temporaryId);
    await provider.delete(id, outs);
    expect(await databases()).toEqual(["app", "app__snap_20250115030000000", "postgres"]);
    await rm(outs.recordLocation);
    expect((await provider.read(id, outs)).id).toBe("");
  });

  it("still finds the ops code when the state was written on another machine (checkout elsewhere, engine in the project)", async () => {
    const moved = drillText.replace(`{root: ${JSON.stringify(ROOT)}}`, '{root: "/elsewhere/runbook-platform"}');
    expect(moved).not.toBe(drillText);
    const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(moved);
    const { outs } = await provider.create(drillInputs());
    expect(outs.passed).toBe(true);
    await provider.delete("x", outs);
  });

  describe("a failed drill is a result: the resource is created with passed false, nothing left, the source untouched", () => {
    const cases: { name: string; inputs: () => RestoreDrillInputs; arrange?: () => Promise<() => Promise<void>>; summary: RegExp }[] = [
      {
        name: "no snapshot",
        inputs: () => drillInputs({ backend: { kind: "local", sourceDatabase: "other" } }),
        arrange: async () => {
          await pg.createDatabase("other");
          return async () => undefined;
        },
        summary: /^drill failed: no snapshot of "other" found .*$/,
      },
      {
        name: "restore failure (the snapshot is in use)",
        inputs: () => drillInputs(),
        arrange: async () => {
          const blocker = new Client({ connectionString: pg.url("app__snap_20250115030000000") });
          await blocker.connect();
          return () => blocker.end();
        },
        summary: /^drill failed: source database "app__snap_20250115030000000" is being accessed by other users$/,
      },
    ];

    it.each(cases)("$name", async ({ inputs, arrange, summary }) => {
      const others = async () => (await databases()).filter((d) => d !== "other");
      const before = [await others(), await sourceState()];
      const release = arrange ? await arrange() : async () => undefined;
      try {
        const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(drillText);
        const { outs } = await provider.create(inputs());
        expect(outs).toMatchObject({ passed: false, rtoSeconds: null });
        expect(outs.integritySummary).toMatch(summary);
        expect(outs.recordLocation).not.toBe("");
        expect(JSON.stringify(outs.notes)).not.toContain(pg.password);
      } finally {
        await release();
      }
      expect([await others(), await sourceState()]).toEqual(before);
    });

    it("the local server unreachable or refusing the password is an error (the sweep cannot run)", async () => {
      const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(drillText);
      await expect(provider.create(drillInputs({ adminUrl: "postgresql://postgres:x@127.0.0.1:1/postgres" }))).rejects.toThrow(
        /^restore drill of 127\.0\.0\.1:1\/app: sweeping an earlier run's temporary database failed: connect ECONNREFUSED 127\.0\.0\.1:1$/,
      );
      const error = (await provider.create(drillInputs({ adminUrl: pg.url().replace(pg.password, "wrong") })).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/password authentication failed for user "postgres"$/);
      expect(error.message).not.toContain(pg.password);
    });

    it("missing credentials: a clear error", async () => {
      const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(drillText);
      await expect(provider.create(drillInputs({ adminUrl: undefined }))).rejects.toThrow(
        /^RestoreDrill: the local backend needs adminUrl \(a secret connection to the server's maintenance database\)$/,
      );
    });

    it("a statement timeout fails the drill's checks: passed false, no RTO, the timeout named", async () => {
      const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(drillText);
      const { outs } = await provider.create(drillInputs({ checks: { expectedTables: ["users"], tolerancePercent: 0, statementTimeoutMs: 100, domainChecks: [{ name: "slow", sql: "SELECT 1 FROM pg_sleep(1)" }] } }));
      expect(outs.passed).toBe(false);
      expect(outs.rtoSeconds).toBeNull();
      expect(outs.notes).toContain("FAIL domain: slow: canceling statement due to statement timeout (raise --statement-timeout above 100 ms)");
      expect((await databases()).filter((d) => d.startsWith("drill_"))).toEqual([]);
    });
  });
});

describe("the serialized IntegrityCheck provider", () => {
  const inputs = (databaseUrl: string): IntegrityCheckInputs => ({
    window: "2025-W03",
    databaseUrl,
    checks: { expectedTables: ["users", "orders"], concurrency: 2, statementTimeoutMs: 30_000 },
  });

  it("create validates read-only, diff replaces on a new window, delete leaves nothing behind", async () => {
    const before = await sourceState();
    const provider = load<IntegrityCheckInputs, IntegrityCheckOutputs>(checkText);
    const { id, outs } = await provider.create(inputs(pg.url("app")));
    expect(id).toBe("integrity@2025-W03");
    expect(outs).toMatchObject({ passed: true, failures: [] });
    expect(await provider.diff(id, outs, inputs(pg.url("app")))).toEqual({ changes: false, replaces: [] });
    expect(await provider.diff(id, outs, { ...inputs(pg.url("app")), window: "2025-W04" })).toEqual({ changes: true, replaces: ["window"] });
    await provider.delete(id, outs);
    expect(await sourceState()).toBe(before);
    expect(await query(pg.url("app"), "SELECT extname FROM pg_extension WHERE extname = 'amcheck'")).toEqual([]);
  });

  it("an unreachable database is a failed check, not a passed one and not a failed deploy", async () => {
    const provider = load<IntegrityCheckInputs, IntegrityCheckOutputs>(checkText);
    const { outs } = await provider.create(inputs("postgresql://u:secret-pw@127.0.0.1:1/db"));
    expect(outs.passed).toBe(false);
    expect(outs.failures).toEqual([
      "connectivity: cannot connect: connect ECONNREFUSED 127.0.0.1:1; check DATABASE_URL's host, port, user, password and TLS settings",
    ]);
  });

  it("violations give passed false with the failures listed", async () => {
    await dropLocalSnapshots(pg.url(), "scratch");
    await query(pg.url(), "CREATE DATABASE scratch TEMPLATE app");
    await query(pg.url("scratch"), "SELECT setval('users_id_seq', 1)");
    const provider = load<IntegrityCheckInputs, IntegrityCheckOutputs>(checkText);
    const { outs } = await provider.create(inputs(pg.url("scratch")));
    expect(outs.passed).toBe(false);
    expect(outs.failures).toEqual([
      "sequence: public.users_id_seq >= max(users.id): next value 2 is not above the column's max 150: the next insert collides; fix with SELECT setval('public.users_id_seq', 150)",
    ]);
  });
});

describe("a provider process killed during create (production dependencies only)", () => {
  it("leaves a temporary database that the next create, with the same window, sweeps", async () => {
    await dropLocalSnapshots(pg.url(), "app");
    await takeLocalSnapshot(pg.url(), "app", new Date("2025-01-15T03:00:00Z"));
    const dir = await mkdtemp(path.join(tmpdir(), "provider-"));
    const providerFile = path.join(dir, "provider.js");
    await writeFile(providerFile, drillText);
    // The drill holds inside its validation (a slow domain check) while the test kills the process.
    const slow = drillInputs({ checks: { expectedTables: ["users"], statementTimeoutMs: 120_000, domainChecks: [{ name: "slow", sql: "SELECT 1 AS id FROM pg_sleep(60)" }] } });
    const child = spawn(process.execPath, [path.join(__dirname, "support", "provider-child.cjs"), providerFile, "create"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.stdin.end(JSON.stringify(slow));
    const temporary = `drill_2025w03_${sourceHash(`127.0.0.1:${pg.port}/app`)}`;
    // Event-driven enough: poll the server until the drill is running its checks in the restored database.
    for (;;) {
      const busy = await query<{ n: string }>(pg.url(), `SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = '${temporary}' AND query LIKE '%FROM pg_sleep(60)%'`);
      if (busy[0]?.n !== "0") break;
      if (child.exitCode !== null) throw new Error(`the provider exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(await databases()).toContain(temporary);

    const provider = load<RestoreDrillInputs, RestoreDrillOutputs>(drillText);
    const { outs } = await provider.create(drillInputs());
    expect(outs.passed).toBe(true);
    expect(outs.notes[0]).toBe(`deleted 1 temporary database an earlier run left behind: ${temporary}`);
    expect((await databases()).filter((d) => d.startsWith("drill_"))).toEqual([]);
    expect(stderr).not.toMatch(/devDependency/);
  }, 120_000);

  it("create and delete run without any devDependency (ts-node, tsx, vitest absent)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "provider-"));
    const providerFile = path.join(dir, "provider.js");
    await writeFile(providerFile, drillText);
    const run = (method: string, input: unknown) =>
      new Promise<string>((resolve, reject) => {
        const child = execFile(process.execPath, [path.join(__dirname, "support", "provider-child.cjs"), providerFile, method], { cwd: ROOT }, (error, stdout, stderr) =>
          error ? reject(new Error(stderr)) : resolve(stdout),
        );
        child.stdin?.end(JSON.stringify(input));
      });
    const created = JSON.parse((await run("create", drillInputs())).split("\n")[1] ?? "") as { id: string; outs: RestoreDrillOutputs };
    expect(created.outs.passed).toBe(true);
    await run("delete", { id: created.id, props: created.outs });
    expect((await databases()).filter((d) => d.startsWith("drill_"))).toEqual([]);
  }, 120_000);
});
