import { escapeLiteral } from "pg";
import { query, startPostgres } from "../../../tests/support/postgres";

/**
 * The integrity benchmark's PostgreSQL. By default a throwaway server (tests/support/postgres).
 * With `INTEGRITY_BENCH_DATA=<dir>` the server keeps its data in `<dir>` and the seeded databases
 * are reused by the next run, which then skips the seeding (about 7 minutes for 21 M rows); remove
 * the directory to seed again, e.g. after changing ops/restore/sample.ts.
 */

export interface BenchServer {
  url(database: string): string;
  /** True when `database` exists already (seeded by an earlier run). */
  has(database: string): Promise<boolean>;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the server; `dataDir` (INTEGRITY_BENCH_DATA) keeps its data between runs. */
export async function benchServer(dataDir = process.env.INTEGRITY_BENCH_DATA): Promise<BenchServer> {
  const pg = await startPostgres(dataDir ? { dataDir } : {});
  return {
    url: (database) => pg.url(database),
    has: async (name) => (await query(pg.url(), `SELECT 1 FROM pg_database WHERE datname = ${escapeLiteral(name)}`)).length > 0,
    createDatabase: (name) => pg.createDatabase(name),
    stop: () => pg.stop(),
  };
}
