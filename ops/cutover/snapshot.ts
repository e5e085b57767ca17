import { createHash } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { copyFile, mkdir, open, rm, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { Worker } from "node:worker_threads";

/**
 * "Snapshot source SQLite file (`backend/prisma/dev.db`)": a byte copy next to a `sha256sum`-format
 * checksum file, taken before anything else, so "restore old environment from SQLite snapshot" can
 * verify the copy with `sha256sum -c` before putting it back. The migration reads the snapshot copy
 * (the bytes that were hashed), and checks before COMMIT that the source file still has them.
 */

export interface FileState {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface SqliteSnapshot {
  source: string;
  /** The file the migration reads: the snapshot copy, or the source itself on --dry-run. */
  readPath: string;
  /** The snapshot copy; undefined on --dry-run, which writes nothing. */
  path?: string;
  /** The `sha256sum -c` file beside the copy (it names the copy relative to its own directory). */
  checksumPath?: string;
  /** A shell line that verifies the copy from any directory. */
  verifyCommand?: string;
  /**
   * The source's state, once it has been hashed, the copy hashed and compared with it and the
   * checksum file written, all on another thread while the caller reads the schema. Rejects when
   * the source changed while it was read or the copy does not match; await it before writing.
   */
  hashed: Promise<FileState>;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function fileState(file: string): Promise<FileState> {
  const info = await stat(file);
  return { size: info.size, mtimeMs: info.mtimeMs, sha256: await sha256File(file) };
}

const HASH_IN_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
require("node:fs").createReadStream(workerData, { highWaterMark: 1 << 20 })
  .on("data", (chunk) => hash.update(chunk))
  .on("error", (error) => parentPort.postMessage({ error: error.message }))
  .on("end", () => parentPort.postMessage({ sha256: hash.digest("hex") }));
`;

/**
 * The SHA-256 of `file`, computed on a worker thread so that it runs on another core, read 1 MiB at
 * a time (the default 64 KiB reads made hashing an 89 MB file take 1.6 times as long).
 */
function sha256FileInWorker(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HASH_IN_WORKER, { eval: true, workerData: file });
    worker.once("message", (message: { sha256?: string; error?: string }) => {
      if (message.sha256 !== undefined) resolve(message.sha256);
      else reject(new Error(`cannot read ${file}: ${message.error}`));
      void worker.terminate();
    });
    worker.once("error", reject);
    // A worker that dies without a word (out of memory) must not leave the caller waiting forever.
    worker.once("exit", (code) => reject(new Error(`hashing ${file} stopped (worker exit code ${code})`)));
  });
}

/**
 * Starts hashing `file` on another thread now and returns a function giving its state later: the
 * hash taken now with the size and mtime read then. A write after the hash started moves the
 * mtime, and then the file is hashed again, so the state returned is never older than the write.
 */
export async function fileStateAhead(file: string): Promise<() => Promise<FileState>> {
  const before = await stat(file);
  const hashing = settleLater(sha256FileInWorker(file));
  return async () => {
    const sha256 = await hashing;
    const after = await stat(file);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return fileState(file);
    return { size: after.size, mtimeMs: after.mtimeMs, sha256 };
  };
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
      const fix =
        suffix === "-wal"
          ? `then checkpoint (sqlite3 ${source} "PRAGMA wal_checkpoint(TRUNCATE);")`
          : `then let SQLite roll the interrupted transaction back (sqlite3 ${source} "PRAGMA integrity_check;" opens it and does)`;
      const held = suffix === "-wal" ? "the database is in WAL mode and has writes in its -wal, outside the main file" : "the database has writes outside the main file";
      throw new Error(`${source}${suffix} exists (${info.size} bytes): ${held}. Stop writes to the old environment, ${fix} before migrating`);
    }
  }
}

/** The first 16 bytes of every SQLite database file (sqlite.org/fileformat.html, "The Database Header"). */
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

const PASS_THE_DATABASE = "pass the path of the Prisma SQLite database (e.g. backend/prisma/dev.db)";

/**
 * Checks, before anything is copied or connected, that `source` can be a SQLite database: it exists,
 * is a regular file, and is either empty or starts with SQLite's header. Returns its size in bytes;
 * 0 is an empty file, which SQLite reads as a database without tables.
 * @throws Error naming the path and the fix: missing, not a file, or not a SQLite database (a JSON
 * export, a SQL dump, a Litestream generation directory's file).
 */
export async function checkSqliteFile(source: string): Promise<number> {
  const info = await stat(source).catch(() => {
    throw new Error(`--sqlite ${source}: no such file (resolved as ${path.resolve(source)}); ${PASS_THE_DATABASE}`);
  });
  if (!info.isFile()) throw new Error(`--sqlite ${source}: not a file; ${PASS_THE_DATABASE}`);
  if (info.size === 0) return 0;
  const file = await open(source, "r");
  try {
    const header = Buffer.alloc(100);
    const { bytesRead } = await file.read(header, 0, header.length, 0);
    if (bytesRead < SQLITE_HEADER.length || !header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
      const start = JSON.stringify(header.subarray(0, Math.min(bytesRead, SQLITE_HEADER.length)).toString("latin1").replace(/[^\x20-\x7e]/g, "."));
      throw new Error(`--sqlite ${source}: not a SQLite database (it starts with ${start}, not "SQLite format 3"); ${PASS_THE_DATABASE}`);
    }
    if (bytesRead < header.length) {
      throw new Error(`--sqlite ${source}: truncated (${info.size} bytes, shorter than SQLite's 100-byte header): a copy cut short, or a download or disk that failed. Use the last good copy of the database`);
    }
    const expected = declaredSize(header, bytesRead);
    if (expected !== undefined && info.size < expected) {
      throw new Error(
        `--sqlite ${source}: truncated (its header declares ${expected} bytes, the file has ${info.size}): a copy cut short, or a download or disk that failed. ` +
          "Use the last good copy of the database",
      );
    }
  } finally {
    await file.close();
  }
  return info.size;
}

/**
 * The database size a SQLite header declares, in bytes: page size (offset 16; 1 means 65536) times
 * the in-header page count (offset 28), which SQLite keeps valid only while the "version-valid-for"
 * number (offset 92) equals the change counter (offset 24) (sqlite.org/fileformat.html, "In-header
 * database size"). Undefined when the header is short or the count is not valid.
 */
function declaredSize(header: Buffer, bytesRead: number): number | undefined {
  if (bytesRead < 100 || header.readUInt32BE(92) !== header.readUInt32BE(24)) return undefined;
  const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
  const pages = header.readUInt32BE(28);
  return pages === 0 ? undefined : pageSize * pages;
}

/**
 * Creates the snapshot directory one level at a time below its nearest existing ancestor (Node's
 * recursive mkdir can spin forever under /proc), so a bad `--snapshot-dir` fails at once.
 * @throws Error naming the flag, the path and what is in the way
 */
async function prepareSnapshotDir(snapshotDir: string): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(snapshotDir);
  for (;;) {
    const info = await stat(at).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw new Error(`--snapshot-dir ${snapshotDir}: ${at} exists and is not a directory; pass a directory for the snapshot`);
      break;
    }
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const dir of missing) {
    await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return;
      throw new Error(`--snapshot-dir ${snapshotDir}: cannot create ${dir} (${error.code ?? error.message}); pass a directory you can write to`);
    });
  }
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "");
}

/** A POSIX shell word: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * The snapshot directory holds a copy of production data: a `.gitignore` of `*` inside it keeps it
 * out of git wherever the directory is (an application repository included), not only here.
 */
async function ignoreInGit(snapshotDir: string): Promise<void> {
  await writeFile(path.join(snapshotDir, ".gitignore"), "# SQLite snapshots are copies of production data: never commit them.\n*\n", { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
}

/**
 * Copies the source file (unless `snapshotDir` is undefined) with the kernel's file copy, so no
 * byte passes through JavaScript, and hashes the source and the copy each on a worker thread:
 * the copy is ready to read at once, `hashed` settles later. Nothing is held in memory. The caller
 * has refused pending -wal and -journal files first (assertNoSidecarFiles).
 */
export async function snapshotSqlite(source: string, snapshotDir: string | undefined, now = new Date()): Promise<SqliteSnapshot> {
  await assertNoSidecarFiles(source);
  const before = await stat(source);
  const sourceHash = sha256FileInWorker(source);
  const unchanged = async (sha256: string): Promise<FileState> => {
    const after = await stat(source);
    if (before.size !== after.size || before.mtimeMs !== after.mtimeMs) throw new Error(`${source} changed while it was being read: stop writes to the old environment first`);
    return { size: after.size, mtimeMs: after.mtimeMs, sha256 };
  };
  if (snapshotDir === undefined) return { source, readPath: source, hashed: settleLater(sourceHash.then(unchanged)) };

  await prepareSnapshotDir(snapshotDir);
  await ignoreInGit(snapshotDir);
  const name = `${path.basename(source)}.${stamp(now)}`;
  const copy = path.join(snapshotDir, name);
  try {
    await copyFile(source, copy, constants.COPYFILE_EXCL);
  } catch (error) {
    await sourceHash.catch(() => undefined);
    throw error;
  }
  const checksumPath = `${copy}.sha256`;
  // The copy is hashed on a second thread while the source's hash runs, not after it.
  const copyHash = settleLater(sha256FileInWorker(copy));
  const hashed = sourceHash.then(async (sha256) => {
    const state = await unchanged(sha256);
    const written = await copyHash;
    if (written !== state.sha256) throw new Error(`snapshot ${copy} does not match the source (sha256 ${written} != ${state.sha256}); check the disk`);
    await writeFile(checksumPath, `${state.sha256}  ${name}\n`, { flag: "wx" });
    return state;
  });
  const verifyCommand = `cd ${shellWord(path.resolve(snapshotDir))} && sha256sum -c ${shellWord(`${name}.sha256`)}`;
  return { source, readPath: copy, path: copy, checksumPath, verifyCommand, hashed: settleLater(hashed) };
}

/**
 * Removes a snapshot copy and its checksum file, once its hashing has settled (so no checksum file
 * is written after). For a run that stopped before loading: nothing was written to PostgreSQL, the
 * source was never at risk, and a copy of production data must not be left behind. No-op on a dry
 * run's snapshot, which copied nothing.
 */
export async function discardSnapshot(snapshot: SqliteSnapshot): Promise<void> {
  await snapshot.hashed.catch(() => undefined);
  for (const file of [snapshot.path, snapshot.checksumPath]) if (file) await rm(file, { force: true });
}

/** A promise awaited later: a run that stops before then must not die of an unhandled rejection. */
function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
