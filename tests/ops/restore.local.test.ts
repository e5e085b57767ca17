import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropLocalSnapshots,
  isoWeek,
  localBackend,
  localTarget,
  runDrill,
  runDrillSpec,
  sourceHash,
  takeLocalSnapshot,
  validate,
  type DrillSpec,
  type RestoreBackend,
} from "../../ops/restore";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import { databaseNames, query, startPostgres, type PostgresServer } from "../support/postgres";

let pg: PostgresServer;


const databases = () => databaseNames(pg);
/** The source's content, to prove a drill never changed it. */
const sourceState = async () =>
  JSON.stringify(await query(pg.url("app"), "SELECT (SELECT count(*) FROM users) u, (SELECT count(*) FROM orders) o, (SELECT max(id) FROM payments) p, (SELECT last_value FROM users_id_seq) s"));

function drillOptions(backend: RestoreBackend, temporaryId = "drill_tmp") {
  return {
    backend,
    mode: "snapshot" as const,
    window: "2025-W03",
    temporaryId,
    validator: validate,
    checks: { expectedTables: [...SAMPLE_TABLES], domainChecks: SAMPLE_DOMAIN_CHECKS, referenceTarget: localTarget(pg.url("app")) },
  };
}

beforeAll(async () => {
  pg = await startPostgres();
  await seedSampleDatabase(await pg.createDatabase("app"), 200);
});

afterAll(async () => {
  await pg?.stop();
});

describe("isoWeek", () => {
  it.each([
    ["2025-01-13T00:00:00Z", "2025-W03"],
    ["2024-12-30T12:00:00Z", "2025-W01"],
    ["2021-01-03T23:59:59Z", "2020-W53"],
    ["2026-12-31T00:00:00Z", "2026-W53"],
    ["2025-06-15T10:00:00Z", "2025-W24"],
  ])("%s is %s", (at, week) => {
    expect(isoWeek(new Date(at))).toBe(week);
  });

  it("refuses an invalid date", () => {
    expect(() => isoWeek(new Date("nope"))).toThrow("isoWeek needs a valid date");
  });
});

describe("local backend, for real", () => {
  it("no snapshot: a failed drill (a result, not an exception), nothing restored, the source untouched", async () => {
    const before = [await databases(), await sourceState()];
    const record = await runDrill(drillOptions(localBackend({ adminUrl: pg.url(), sourceDatabase: "app" })));
    expect(record).toMatchObject({
      passed: false,
      rtoSeconds: undefined,
      cleanedUp: true,
      integritySummary: 'drill failed: no snapshot of "app" found (databases named app__snap_<time>); take one first (takeLocalSnapshot)',
    });
    expect([await databases(), await sourceState()]).toEqual(before);
  });

  it("restores the latest snapshot, passes readiness and integrity, records the RTO, and drops the temporary database", async () => {
    const before = await sourceState();
    await takeLocalSnapshot(pg.url(), "app", new Date("2025-01-13T03:00:00Z"));
    const latest = await takeLocalSnapshot(pg.url(), "app", new Date("2025-01-15T03:00:00Z"));
    expect(latest).toBe("app__snap_20250115030000000");
    const steps: string[] = [];
    const record = await runDrill({ ...drillOptions(localBackend({ adminUrl: pg.url(), sourceDatabase: "app" })), onStep: (step, state) => steps.push(`${step}:${state}`) });
    expect(record).toMatchObject({
      backend: "local",
      sourceId: `127.0.0.1:${pg.port}/app`,
      window: "2025-W03",
      restoreMode: "snapshot",
      snapshotId: "app__snap_20250115030000000",
      capturedAt: "2025-01-15T03:00:00.000Z",
      temporaryId: "drill_tmp",
      passed: true,
      cleanedUp: true,
      rowCounts: { _prisma_migrations: 3, users: 200, orders: 600, payments: 300, webhook_events: 300 },
    });
    expect(record.rtoSeconds).toBeTypeOf("number");
    // The drill installs amcheck in the temporary database it owns, so index structure is verified
    // there (no "amcheck not installed" warning), while the source never gets the extension.
    expect(record.integritySummary).toMatch(/^\d+ checks, 0 failed, 0 warnings$/);
    expect(record.notes).toContain("amcheck enabled in the temporary database: index structure verified with bt_index_check");
    expect(record.results.find((r) => r.check === "amcheck")?.status).toBe("pass");
    expect(record.results.find((r) => r.check === "index: users_pkey")).toMatchObject({ status: "pass", detail: "bt_index_check: consistent, every heap tuple indexed" });
    expect(await query(pg.url("app"), "SELECT extname FROM pg_extension WHERE extname = 'amcheck'")).toEqual([]);
    expect(record.results.slice(0, 3).map((r) => [r.check, r.status])).toEqual([
      ["readiness: connect", "pass"],
      ["readiness: SELECT 1", "pass"],
      ["readiness: migrations applied", "pass"],
    ]);
    expect(record.results.find((r) => r.check === "rows: users vs reference")?.status).toBe("pass");
    expect(steps).toEqual(["sweep:start", "sweep:done", "find:start", "find:done", "restore:start", "restore:done", "available:start", "available:done", "validate:start", "validate:done", "cleanup:start", "cleanup:done"]);
    expect(await databases()).toEqual(["app", "app__snap_20250113030000000", "app__snap_20250115030000000", "postgres"]);
    expect(await sourceState()).toBe(before);
  });

  it("a snapshot with a violation: passed false, no RTO, the failure in the notes, the temporary database dropped", async () => {
    await dropLocalSnapshots(pg.url(), "app");
    const snapshot = await takeLocalSnapshot(pg.url(), "app", new Date("2025-01-16T03:00:00Z"));
    await query(pg.url(snapshot), "SELECT setval('orders_id_seq', 2)");
    const record = await runDrill(drillOptions(localBackend({ adminUrl: pg.url(), sourceDatabase: "app" })));
    expect(record.passed).toBe(false);
    expect(record.rtoSeconds).toBeUndefined();
    expect(record.notes).toContain(
      "FAIL sequence: public.orders_id_seq >= max(orders.id): next value 3 is not above the column's max 600: the next insert collides; fix with SELECT setval('public.orders_id_seq', 600)",
    );
    expect(await databases()).toEqual(["app", snapshot, "postgres"]);
  });

  it("a failure after the restore (wrong password for the checks) is a failed drill that still drops the temporary database", async () => {
    const before = await sourceState();
    const real = localBackend({ adminUrl: pg.url(), sourceDatabase: "app" });
    const wrongPassword: RestoreBackend = {
      ...real,
      target: async (db) => ({ ...(await real.target(db)), password: "wrong" }),
    };
    const record = await runDrill(drillOptions(wrongPassword));
    expect(record.passed).toBe(false);
    expect(record.integritySummary).toMatch(/^readiness: cannot connect to 127\.0\.0\.1:\d+\/drill_tmp after 1 attempt: password authentication failed for user "postgres"$/);
    expect(JSON.stringify(record)).not.toContain(pg.password);
    expect(record.notes).toContain("temporary database drill_tmp deleted");
    expect(await databases()).not.toContain("drill_tmp");
    expect(await sourceState()).toBe(before);
  });

  it("sweeps a leftover of this source (any window) before restoring, and leaves other databases alone", async () => {
    const hash = sourceHash(`127.0.0.1:${pg.port}/app`);
    await pg.createDatabase(`drill_2025w02_${hash}`);
    await pg.createDatabase("drill_2025w02_ffffff");
    const record = await runDrill(drillOptions(localBackend({ adminUrl: pg.url(), sourceDatabase: "app" })));
    expect(record.notes[0]).toBe(`deleted 1 temporary database an earlier run left behind: drill_2025w02_${hash}`);
    expect(await databases()).not.toContain(`drill_2025w02_${hash}`);
    expect(await databases()).toContain("drill_2025w02_ffffff");
    await query(pg.url(), "DROP DATABASE drill_2025w02_ffffff");
  });

  it("refuses to use the source or a snapshot as the temporary database", async () => {
    const backend = localBackend({ adminUrl: pg.url(), sourceDatabase: "app" });
    await expect(backend.destroy("app")).rejects.toThrow('refusing to touch "app": it is the source or one of its snapshots');
    await expect(backend.destroy("app__snap_20250116030000000")).rejects.toThrow("refusing to touch");
    expect(await databases()).toContain("app");
  });

  it("runDrillSpec publishes a local JSON record, compares counts with the source, and cleans up", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "drill-records-"));
    const spec: DrillSpec = {
      window: "2025-W03",
      mode: "snapshot",
      temporaryPrefix: "drill",
      backend: { kind: "local", adminUrl: pg.url(), sourceDatabase: "app" },
      checks: { expectedTables: [...SAMPLE_TABLES], tolerancePercent: 0 },
      publish: { directory },
    };
    await dropLocalSnapshots(pg.url(), "app");
    await takeLocalSnapshot(pg.url(), "app");
    const record = await runDrillSpec(spec);
    expect(record.passed).toBe(true);
    // Deterministic: the same source and window always give the same name (a crashed run's leftover is found).
    expect(record.temporaryId).toBe(`drill_2025w03_${sourceHash(`127.0.0.1:${pg.port}/app`)}`);
    expect(record.results.find((r) => r.check === "rows: users vs reference")?.status).toBe("pass");
    const files = await readdir(directory);
    expect(files).toHaveLength(1);
    const text = await readFile(path.join(directory, files[0] as string), "utf8");
    expect(text).not.toContain(pg.password);
    const published = JSON.parse(text) as { passed: boolean; rtoSeconds: number; window: string };
    expect(published).toMatchObject({ passed: true, window: "2025-W03", rtoSeconds: record.rtoSeconds });
    expect(await databases()).not.toContain(record.temporaryId);
    await expect(runDrillSpec({ ...spec, window: "2025-03" })).rejects.toThrow('window is "2025-03"; use an ISO week such as 2025-W03');
  });
});
