import { mkdir, rm } from "node:fs/promises";
import * as path from "node:path";
import { Client } from "pg";
import { Database } from "node-sqlite3-wasm";
import type { PostgresServer } from "../support/postgres";

/**
 * A SQLite database shaped like a Prisma dev.db (the tables, declared types and storage Prisma's
 * SQLite connector produces: DateTime as epoch milliseconds, Boolean as 0/1, BigInt as INTEGER,
 * Bytes as BLOB, Json as TEXT, implicit many-to-many `_PostToTag`, `_prisma_migrations`), and the
 * PostgreSQL schema `prisma migrate deploy` would create for the same models.
 */

export const SQLITE_SCHEMA = `
CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);
CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "isAdmin" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE TABLE "Post" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" TEXT NOT NULL,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "authorId" INTEGER NOT NULL,
    "metadata" JSONB,
    "views" BIGINT NOT NULL DEFAULT 0,
    "rating" REAL,
    "price" DECIMAL,
    "publishedAt" DATETIME,
    CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE TABLE "Comment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "postId" INTEGER NOT NULL,
    "parentId" TEXT,
    "body" TEXT NOT NULL,
    "settings" JSONB,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Comment_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Comment" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE TABLE "Attachment" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "postId" INTEGER NOT NULL,
    "data" BLOB NOT NULL,
    "mime" TEXT NOT NULL,
    CONSTRAINT "Attachment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE TABLE "Tag" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL
);
CREATE TABLE "_PostToTag" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,
    CONSTRAINT "_PostToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Post" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "_PostToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "_PostToTag_AB_unique" ON "_PostToTag"("A", "B");
`;

/** Prisma's PostgreSQL migration for the same models (Json -> JSONB, one @db.Timestamptz(3), one @db.Json). */
export const POSTGRES_SCHEMA = `
CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
VALUES ('00000000-0000-0000-0000-0000000000aa', 'pgchecksum', now(), '20240101000000_init_postgres', 1);
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "isAdmin" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "authorId" INTEGER NOT NULL,
    "metadata" JSONB,
    "views" BIGINT NOT NULL DEFAULT 0,
    "rating" DOUBLE PRECISION,
    "price" DECIMAL(65,30),
    "publishedAt" TIMESTAMPTZ(3),
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Comment" (
    "id" TEXT NOT NULL,
    "postId" INTEGER NOT NULL,
    "parentId" TEXT,
    "body" TEXT NOT NULL,
    "settings" JSON,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Comment_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Attachment" (
    "id" SERIAL NOT NULL,
    "postId" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    "mime" TEXT NOT NULL,
    CONSTRAINT "Attachment_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "_PostToTag" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "_PostToTag_AB_unique" ON "_PostToTag"("A", "B");
CREATE INDEX "_PostToTag_B_index" ON "_PostToTag"("B");
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Comment"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Attachment" ADD CONSTRAINT "Attachment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "_PostToTag" ADD CONSTRAINT "_PostToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Post"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_PostToTag" ADD CONSTRAINT "_PostToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`;

/** Deterministic pseudo-random bytes (a large blob that is not all zeros). */
export function blob(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

export const LARGE_BLOB_BYTES = 5 * 1024 * 1024;
export const ESCAPE_BLOB = Uint8Array.from([0x00, 0x5c, 0x0a, 0x0d, 0x09, 0xff, 0x4e]);
/** Text that exercises COPY escaping and Unicode: emoji, CJK, combining marks, tab, newline, CR, backslash, control characters. */
export const TRICKY_TEXT = "héllo 👩‍💻 漢字 e\u0301\ttab\nnewline\r\\N back\\slash \u0001\u001f\u007f end";

/** The rows, as Prisma would have written them to SQLite. */
export const ROWS = {
  _prisma_migrations: [
    ["11111111-1111-1111-1111-111111111111", "sqlitechecksum", 1704067200000, "20240101000000_init", null, null, "2024-01-01 00:00:00", 1],
  ],
  User: [
    [1, "ada@example.com", "Ada Lovelace", 1, 1704067200000, "2024-02-29T23:59:59.999Z"],
    [2, "zoë@example.com", TRICKY_TEXT, 0, 1704067200123, "2024-03-01 12:00:00"],
    [3, "nobody@example.com", null, 0, -86400000, "2024-03-01T14:00:00.123+02:00"],
  ],
  Post: [
    [1, "First", 1, 1, '{"z": 1, "a": [1.0, 2e2, -0, "x"], "nested": {"bb": true, "a": null}}', "9007199254740993", 0.1, "19.99", 1709251200000],
    [2, "Big numbers", 0, 2, '{"a":1,"a":2,"ü":"\\u00e9\\n"}', "9223372036854775807", -0, 3, null],
    [3, "Small numbers", 0, 2, null, "-9223372036854775808", 1e300, 0.5, "2024-03-01T00:00:00Z"],
  ],
  Comment: [
    // The reply comes before its parent: only an end-of-load check of the self-reference accepts it.
    ["c-2", 1, "c-1", "a reply", '{ "keep" :  "spacing" }', 1709251200000],
    ["c-1", 1, null, TRICKY_TEXT, null, 1709251200001],
  ],
  Attachment: [
    [1, 1, blob(LARGE_BLOB_BYTES, 7), "application/octet-stream"],
    [2, 2, ESCAPE_BLOB, "application/x-escapes"],
  ],
  Tag: [
    [1, "news"],
    [2, "drop-me"],
    [3, "ünïcödé 🏷️"],
  ],
  _PostToTag: [
    [1, 1],
    [1, 3],
    [2, 2],
  ],
} as const;

type Row = readonly (string | number | Uint8Array | null)[];

/** Columns whose test value is the text of a 64-bit integer beyond 2^53: stored with CAST so SQLite holds an INTEGER. */
const BIGINT_COLUMNS: Record<string, number[]> = { Post: [5] };

/** Writes the Prisma-shaped dev.db to `file` (then runs `mutate` on it, if given), as a real SQLite file on disk. */
export async function writePrismaSqlite(file: string, mutate?: (db: Database) => void): Promise<void> {
  await rm(file, { force: true });
  const db = new Database(file);
  try {
    db.exec("PRAGMA foreign_keys = OFF");
    db.exec(SQLITE_SCHEMA);
    for (const [table, rows] of Object.entries(ROWS) as [string, readonly Row[]][]) {
      for (const row of rows) {
        const placeholders = row.map((_, i) => ((BIGINT_COLUMNS[table] ?? []).includes(i) ? "CAST(? AS INTEGER)" : "?")).join(", ");
        db.run(`INSERT INTO "${table}" VALUES (${placeholders})`, [...row]);
      }
    }
    mutate?.(db);
  } finally {
    db.close();
  }
}

/** Opens an existing SQLite file read-write (foreign keys off, as SQLite's default), for a test to change it. */
export function openForWriting(file: string): Database {
  const db = new Database(file, { fileMustExist: true });
  db.exec("PRAGMA foreign_keys = OFF");
  return db;
}

export async function applyPostgresSchema(url: string, extraSql = ""): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(POSTGRES_SCHEMA + extraSql);
  } finally {
    await client.end();
  }
}

export interface Setup {
  url: string;
  sqlite: string;
  snapshots: string;
}

export interface SetupOptions {
  /** SQL run on the target after the Prisma schema (e.g. a trigger, a narrower type). */
  extraSql?: string;
  /** Changes made to the SQLite file after the Prisma rows are written. */
  mutate?: (db: Database) => void;
}

/** A fresh migrated PostgreSQL database on `pg` and a fresh Prisma-shaped dev.db in `dir`. */
export async function setupCutover(pg: PostgresServer, dir: string, database: string, options: SetupOptions = {}): Promise<Setup> {
  const url = await pg.createDatabase(database);
  await applyPostgresSchema(url, options.extraSql);
  const sqlite = path.join(dir, "dev.db");
  await mkdir(dir, { recursive: true });
  await writePrismaSqlite(sqlite, options.mutate);
  return { url, sqlite, snapshots: path.join(dir, "snapshots") };
}

export { query } from "../support/postgres";
