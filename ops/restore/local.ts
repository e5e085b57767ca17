import { Client, escapeIdentifier } from "pg";
import { sourceHash } from "./names";
import type { ValidationTarget } from "./validation";
import { NoRestorePointError, type RestoreBackend, type RestoreMode, type RestorePoint, type RestoredDatabase } from "./types";
import { connectClient } from "../lib/postgres";

/**
 * The local backend: PostgreSQL database copies stand in for snapshots. A snapshot is
 * `CREATE DATABASE <source>__snap_<time> TEMPLATE <source>`; a restore is
 * `CREATE DATABASE <temp> TEMPLATE <snapshot>`. It powers `npm run drill:local` and the tests.
 * Temporary databases are named `<prefix>_<window>_<source hash>` (temporaryIdFor), which is how
 * `sweep` recognises a crashed run's leftover.
 */

export interface LocalBackendOptions {
  /** A connection to a maintenance database on the server (e.g. `.../postgres`), as a superuser or a role with CREATEDB. */
  adminUrl: string;
  /** The database whose snapshots are restored; the drill never connects to it. */
  sourceDatabase: string;
  /** Connection attempts keep failing for at most this long. @default 30000 */
  availableTimeoutMs?: number;
}

const SNAPSHOT_SUFFIX = "__snap_";
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function checkName(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`${what} "${name}" is not a plain lower-case PostgreSQL database name (a-z, 0-9, _; at most 63)`);
  return name;
}

function snapshotName(source: string, at: Date): string {
  const stamp = at.toISOString().replace(/\D/g, "").slice(0, 17);
  return checkName(`${source.slice(0, 63 - SNAPSHOT_SUFFIX.length - 17)}${SNAPSHOT_SUFFIX}${stamp}`, "snapshot name");
}

async function withAdmin<T>(adminUrl: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient({ connectionString: adminUrl, connectionTimeoutMillis: 15_000, application_name: "runbook-drill" });
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * DROP DATABASE ... WITH (FORCE), which ends the database's sessions first. A session that
 * connects between that and the drop (a check that was already connecting) makes PostgreSQL refuse
 * with SQLSTATE 55006 (object_in_use); the drop is retried a few times, 200 ms apart, then that
 * error is thrown.
 */
async function dropDatabase(client: Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "55006" || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Takes a snapshot of the source, as the daily automated backup would; returns its name. */
export async function takeLocalSnapshot(adminUrl: string, sourceDatabase: string, at = new Date()): Promise<string> {
  const name = snapshotName(checkName(sourceDatabase, "sourceDatabase"), at);
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${escapeIdentifier(name)} TEMPLATE ${escapeIdentifier(sourceDatabase)}`));
  return name;
}

/** Drops every local snapshot of the source (tests and drill:local clean up with it). */
export async function dropLocalSnapshots(adminUrl: string, sourceDatabase: string): Promise<void> {
  await withAdmin(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [`${sourceDatabase}${SNAPSHOT_SUFFIX}`]);
    for (const { datname } of rows) await dropDatabase(c, datname);
  });
}

/** A validation target for a database on a local server (no TLS), from a postgresql:// URL. */
export function localTarget(url: string): ValidationTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    tls: "disable",
  };
}

export function localBackend(options: LocalBackendOptions): RestoreBackend {
  const source = checkName(options.sourceDatabase, "sourceDatabase");
  const adminUrl = options.adminUrl;
  const base = new URL(adminUrl);
  const availableTimeoutMs = options.availableTimeoutMs ?? 30_000;
  const guard = (identifier: string) => {
    checkName(identifier, "temporary database");
    if (identifier === source || identifier.startsWith(`${source}${SNAPSHOT_SUFFIX}`)) {
      throw new Error(`refusing to touch "${identifier}": it is the source or one of its snapshots, never a drill's temporary database`);
    }
    return identifier;
  };
  const sourceId = `${base.hostname}:${base.port || 5432}/${source}`;
  return {
    kind: "local",
    sourceId,
    async findLatest(mode: RestoreMode): Promise<RestorePoint> {
      if (mode !== "snapshot") throw new Error('the local backend restores snapshots only; set mode to "snapshot"');
      const { rows } = await withAdmin(adminUrl, (c) =>
        c.query<{ datname: string }>(
          "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datallowconn ORDER BY datname DESC LIMIT 1",
          [`${source}${SNAPSHOT_SUFFIX}`],
        ),
      );
      const latest = rows[0]?.datname;
      if (!latest) {
        throw new NoRestorePointError(`no snapshot of "${source}" found (databases named ${source}${SNAPSHOT_SUFFIX}<time>); take one first (takeLocalSnapshot)`);
      }
      const stamp = latest.slice(latest.lastIndexOf(SNAPSHOT_SUFFIX) + SNAPSHOT_SUFFIX.length);
      const capturedAt = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}.${stamp.slice(14, 17)}Z`;
      return { mode, id: latest, capturedAt };
    },
    async restore(point, identifier): Promise<RestoredDatabase> {
      const name = guard(identifier);
      await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${escapeIdentifier(name)} TEMPLATE ${escapeIdentifier(checkName(point.id, "snapshot"))}`));
      return { identifier: name };
    },
    async waitAvailable(db): Promise<void> {
      const deadline = Date.now() + availableTimeoutMs;
      const url = new URL(adminUrl);
      url.pathname = `/${guard(db.identifier)}`;
      for (;;) {
        try {
          await (await connectClient({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 })).end();
          return;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`"${db.identifier}" did not accept connections within ${availableTimeoutMs} ms: ${(error as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    async target(db): Promise<ValidationTarget> {
      return { ...localTarget(adminUrl), database: guard(db.identifier) };
    },
    async sweep(): Promise<string[]> {
      const suffix = new RegExp(`_\\d{4}w\\d{2}_${sourceHash(sourceId)}$`);
      const leftovers = await withAdmin(adminUrl, async (c) => {
        const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database ORDER BY datname");
        return rows.map((r) => r.datname).filter((name) => suffix.test(name) && name !== source);
      });
      for (const name of leftovers) await this.destroy(name);
      return leftovers;
    },
    async destroy(identifier): Promise<void> {
      const name = guard(identifier);
      await withAdmin(adminUrl, (c) => dropDatabase(c, name));
    },
  };
}
