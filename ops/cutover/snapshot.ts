import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";

/**
 * "Snapshot source SQLite file (`backend/prisma/dev.db`)": a byte copy next to a `sha256sum`-format
 * checksum file, taken before anything else, so "restore old environment from SQLite snapshot" can
 * verify the copy with `sha256sum -c` before putting it back. The migration reads the same bytes it
 * snapshotted, and checks before COMMIT that the source file still has them.
 */

export interface FileState {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface SqliteSnapshot {
  source: string;
  /** The bytes that were hashed, copied and migrated. */
  bytes: Uint8Array;
  state: FileState;
  /** The snapshot copy; undefined on --dry-run, which writes nothing. */
  path?: string;
  /** The `sha256sum -c` file beside the copy. */
  checksumPath?: string;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function fileState(file: string): Promise<FileState> {
  const info = await stat(file);
  return { size: info.size, mtimeMs: info.mtimeMs, sha256: await sha256File(file) };
}

/** What differs between two states of the source file, or undefined when none. */
export function describeChange(before: FileState, after: FileState): string | undefined {
  const changes: string[] = [];
  if (after.size !== before.size) changes.push(`size ${before.size} -> ${after.size} bytes`);
  if (after.mtimeMs !== before.mtimeMs) changes.push(`mtime ${new Date(before.mtimeMs).toISOString()} -> ${new Date(after.mtimeMs).toISOString()}`);
  if (after.sha256 !== before.sha256) changes.push(`sha256 ${before.sha256.slice(0, 12)}... -> ${after.sha256.slice(0, 12)}...`);
  return changes.length === 0 ? undefined : changes.join(", ");
}

/**
 * Refuses a database with pending write-ahead log or a hot journal: those pages are not in the main
 * file, so a byte copy of it alone would silently miss committed writes.
 */
export async function assertNoSidecarFiles(source: string): Promise<void> {
  for (const suffix of ["-wal", "-journal"]) {
    const info = await stat(`${source}${suffix}`).catch(() => undefined);
    if (info && info.size > 0) {
      throw new Error(
        `${source}${suffix} exists (${info.size} bytes): the database has writes outside the main file. Stop writes to the old environment, ` +
          `then checkpoint (sqlite3 ${source} "PRAGMA wal_checkpoint(TRUNCATE);") before migrating`,
      );
    }
  }
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "");
}

/** Reads, hashes and (unless `snapshotDir` is undefined) copies the source file with its checksum. */
export async function snapshotSqlite(source: string, snapshotDir: string | undefined, now = new Date()): Promise<SqliteSnapshot> {
  await assertNoSidecarFiles(source);
  const before = await stat(source).catch(() => {
    throw new Error(`--sqlite ${source}: no such file; pass the path of the Prisma SQLite database (e.g. backend/prisma/dev.db)`);
  });
  const bytes = new Uint8Array(await readFile(source));
  const after = await stat(source);
  if (before.size !== after.size || before.mtimeMs !== after.mtimeMs || after.size !== bytes.length) {
    throw new Error(`${source} changed while it was being read: stop writes to the old environment first`);
  }
  const state: FileState = { size: bytes.length, mtimeMs: after.mtimeMs, sha256: sha256(bytes) };
  if (snapshotDir === undefined) return { source, bytes, state };

  await mkdir(snapshotDir, { recursive: true });
  const name = `${path.basename(source)}.${stamp(now)}`;
  const copy = path.join(snapshotDir, name);
  const checksumPath = `${copy}.sha256`;
  await writeFile(copy, bytes, { flag: "wx" });
  const written = await sha256File(copy);
  if (written !== state.sha256) throw new Error(`snapshot ${copy} does not match the source (sha256 ${written} != ${state.sha256}); check the disk`);
  await writeFile(checksumPath, `${state.sha256}  ${name}\n`, { flag: "wx" });
  return { source, bytes, state, path: copy, checksumPath };
}
