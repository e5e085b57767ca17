import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { migrateSqliteToPostgres, type CutoverOptions, type CutoverReport } from "../../ops/cutover/migrate";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { setupCutover, type Setup, type SetupOptions } from "./cutover-fixture";

/** What a cutover test file runs against: one real PostgreSQL and a scratch folder, both removed after the file. */
export interface CutoverSuite {
  /** The file's server (started in beforeAll). */
  pg(): PostgresServer;
  /** The file's scratch folder (made in beforeAll). */
  work(): string;
  /** A fresh migrated database and a fresh Prisma-shaped dev.db, named `<prefix>_<n>`. */
  setup(options?: SetupOptions): Promise<Setup>;
  /** The cutover of `s`'s files into `s`'s database, its snapshots in `s.snapshots`. */
  migrate(s: Setup, extra?: Partial<CutoverOptions>): Promise<CutoverReport>;
}

/** Registers the file's beforeAll/afterAll (server and scratch folder) and returns its helpers; `prefix` names its databases. */
export function cutoverSuite(prefix: string): CutoverSuite {
  let pg: PostgresServer | undefined;
  let work: string | undefined;
  let databases = 0;
  beforeAll(async () => {
    pg = await startPostgres();
    work = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  });
  afterAll(async () => {
    await pg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the cutover suite is used before its beforeAll ran");
    return value;
  };
  return {
    pg: () => started(pg),
    work: () => started(work),
    setup: (options = {}) => {
      databases += 1;
      return setupCutover(started(pg), path.join(started(work), `run-${databases}`), `${prefix.replace(/-/g, "_")}_${databases}`, options);
    },
    migrate: (s, extra = {}) => migrateSqliteToPostgres({ sqlitePath: s.sqlite, databaseUrl: s.url, snapshotDir: s.snapshots, ...extra }),
  };
}

/** The Prisma sample's data tables (every table but `_prisma_migrations`). */
export const DATA_TABLES = ["User", "Post", "Comment", "Attachment", "Tag", "_PostToTag"] as const;

/** The failed rows of a report, as `check: detail`. */
export const failures = (report: CutoverReport): string[] => report.results.filter((r) => r.status === "fail").map((r) => `${r.check}: ${r.detail}`);
