import type { ClientBase } from "pg";
import type { MigrationTableInfo } from "./catalog";
import { plural } from "../lib/report";
import { displayName, scanTarget } from "./sql";

/**
 * The migrations tables of the common migration tools, recognised by their columns (a table can be
 * renamed; its shape says which tool wrote it). Sources: Prisma `migrate` (_prisma_migrations),
 * Knex (knex_migrations, knex_migrations_lock), TypeORM (migrations), Flyway
 * (flyway_schema_history), golang-migrate (schema_migrations with `dirty`), Rails
 * (schema_migrations), Django (django_migrations).
 */

/** What a migrations table says: applied count, latest migration, and what is wrong (null when nothing is). */
interface MigrationState {
  applied: number;
  latest: string | null;
  problem: string | null;
}

interface MigrationTool {
  tool: string;
  /** The tool's default table name. */
  table: string;
  /** Columns that identify the tool's table (a table with all of them is the tool's). */
  columns: readonly string[];
  read(client: ClientBase, from: string, lock: string | undefined): Promise<MigrationState>;
}

async function one<T>(client: ClientBase, sql: string): Promise<T> {
  const { rows } = await client.query(sql);
  if (!rows[0]) throw new Error("the migrations query returned nothing");
  return rows[0] as T;
}

/** Tools whose table holds one row per applied migration and nothing else. */
const appliedRows = (tool: string, table: string, columns: readonly string[], latest: string): MigrationTool => ({
  tool,
  table,
  columns,
  async read(client, from) {
    const r = await one<{ n: string; latest: string | null }>(client, `SELECT count(*)::text AS n, ${latest} AS latest FROM ${from}`);
    return { applied: Number(r.n), latest: r.latest, problem: null };
  },
});

/** In the order they are tried: a shape that contains another tool's columns comes first. */
const TOOLS: readonly MigrationTool[] = [
  {
    tool: "Prisma",
    table: "_prisma_migrations",
    columns: ["migration_name", "started_at", "finished_at", "rolled_back_at"],
    async read(client, from) {
      const r = await one<{ applied: string; latest: string | null; unfinished: string[] | null; n: string }>(
        client,
        `SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL)::text AS applied,
                max(migration_name) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL) AS latest,
                count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL)::text AS n,
                (array_agg(migration_name ORDER BY started_at) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL))[1:3] AS unfinished
           FROM ${from}`,
      );
      const n = Number(r.n);
      const problem = n > 0 ? `${plural(n, "migration")} started but never finished: ${(r.unfinished ?? []).join(", ")} (resolve with prisma migrate resolve)` : null;
      return { applied: Number(r.applied), latest: r.latest, problem };
    },
  },
  {
    tool: "Flyway",
    table: "flyway_schema_history",
    columns: ["installed_rank", "version", "script", "success"],
    async read(client, from) {
      const r = await one<{ applied: string; latest: string | null; failed: string[] | null; n: string }>(
        client,
        `SELECT count(*) FILTER (WHERE success)::text AS applied,
                (array_agg(coalesce(version, description) ORDER BY installed_rank DESC) FILTER (WHERE success))[1] AS latest,
                count(*) FILTER (WHERE NOT success)::text AS n,
                (array_agg(coalesce(version, '') || ' ' || script ORDER BY installed_rank) FILTER (WHERE NOT success))[1:3] AS failed
           FROM ${from}`,
      );
      const n = Number(r.n);
      const problem = n > 0 ? `${plural(n, "migration")} failed (success = false): ${(r.failed ?? []).join(", ")} (fix the schema, then flyway repair)` : null;
      return { applied: Number(r.applied), latest: r.latest, problem };
    },
  },
  {
    tool: "golang-migrate",
    table: "schema_migrations",
    columns: ["version", "dirty"],
    async read(client, from) {
      const r = await one<{ n: string; version: string | null; dirty: boolean | null }>(
        client,
        `SELECT count(*)::text AS n, max(version)::text AS version, bool_or(dirty) AS dirty FROM ${from}`,
      );
      const problem =
        r.dirty === true
          ? `dirty at version ${r.version}: that migration failed part-way (fix the schema by hand, then migrate force with the last version that applied cleanly)`
          : null;
      return { applied: r.version === null ? 0 : Number(r.n), latest: r.version, problem };
    },
  },
  {
    tool: "Knex",
    table: "knex_migrations",
    columns: ["name", "batch", "migration_time"],
    async read(client, from, lock) {
      const r = await one<{ n: string; latest: string | null }>(
        client,
        `SELECT count(*)::text AS n, (array_agg(name ORDER BY id DESC))[1] AS latest FROM ${from}`,
      );
      const locked = lock ? (await one<{ locked: boolean | null }>(client, `SELECT bool_or(is_locked <> 0) AS locked FROM ${lock}`)).locked : false;
      const problem = locked ? "the migration lock is held: a migration is running or crashed (knex migrate:unlock once nothing runs)" : null;
      return { applied: Number(r.n), latest: r.latest, problem };
    },
  },
  appliedRows("Django", "django_migrations", ["app", "name", "applied"], "(array_agg(app || '.' || name ORDER BY applied DESC, id DESC))[1]"),
  appliedRows("TypeORM", "migrations", ["timestamp", "name"], "(array_agg(name ORDER BY timestamp DESC))[1]"),
  appliedRows("Rails", "schema_migrations", ["version"], "max(version)::text"),
];

/** Table names the catalog reads columns of: each tool's default table, and Knex's lock table. */
export const KNOWN_MIGRATION_TABLES: readonly string[] = [...new Set([...TOOLS.map((t) => t.table), "knex_migrations_lock"])];

const shapes = () => TOOLS.map((t) => `${t.tool} (${t.columns.join(", ")})`).join("; ");

function recogniseMigrationTool(columns: readonly string[]): MigrationTool | undefined {
  return TOOLS.find((tool) => tool.columns.every((c) => columns.includes(c)));
}

/** What planning the migrations check needs to know, and what it produces. */
export interface MigrationPlan {
  name: string;
  /** Missing privileges that block reading the table. */
  denied: string[];
  /** A fixed verdict (no table, unknown shape), or a read of the table. */
  verdict?: { status: "fail" | "skip"; detail: string };
  run?: (client: ClientBase) => Promise<{ status: "pass" | "fail"; detail: string }>;
}

/**
 * Plans the migrations checks: the table asked for, or (none asked for) every known tool's table
 * present. A table of unknown shape is named with its columns and the shapes recognised.
 */
export function planMigrations(tables: readonly MigrationTableInfo[], asked: { schema: string; table: string } | undefined): MigrationPlan[] {
  const find = (schema: string, table: string) => tables.find((t) => t.schema === schema && t.table === table);
  let candidates: MigrationTableInfo[];
  if (asked) {
    const found = find(asked.schema, asked.table);
    const name = `migrations: ${displayName(asked.schema, asked.table)}`;
    if (!found) return [{ name, denied: [], verdict: { status: "fail", detail: `table ${displayName(asked.schema, asked.table)} not found; the application's migrations were never applied here` } }];
    candidates = [found];
  } else {
    candidates = tables.filter((t) => TOOLS.some((tool) => tool.table === t.table));
    const recognised = candidates.filter((t) => recogniseMigrationTool(t.columns));
    if (recognised.length > 0) candidates = recognised;
    if (candidates.length === 0) {
      return [
        {
          name: "migrations",
          denied: [],
          verdict: {
            status: "fail",
            detail: `no migrations table found (looked for ${TOOLS.map((t) => `${t.table} (${t.tool})`).join(", ")}); were the migrations applied? Name the table with --migrations-table`,
          },
        },
      ];
    }
  }
  return candidates.map((t): MigrationPlan => {
    const name = `migrations: ${displayName(t.schema, t.table)}`;
    const tool = recogniseMigrationTool(t.columns);
    if (!tool) {
      return {
        name,
        denied: [],
        verdict: {
          status: "skip",
          detail: `not checked: ${displayName(t.schema, t.table)} has columns (${t.columns.join(", ")}), which match no migration tool known here: ${shapes()}`,
        },
      };
    }
    const lockInfo = tool.tool === "Knex" ? find(t.schema, `${t.table}_lock`) : undefined;
    const lock = lockInfo?.columns.includes("is_locked") ? scanTarget(lockInfo) : undefined;
    return {
      name,
      denied: [...t.denied, ...(lockInfo?.denied ?? [])],
      async run(client) {
        const state = await tool.read(client, scanTarget(t), lock);
        if (state.problem) return { status: "fail", detail: `${tool.tool}: ${state.problem}` };
        if (state.applied === 0) return { status: "fail", detail: `${tool.tool}: no migration applied; the schema was never migrated` };
        return { status: "pass", detail: `${tool.tool}: ${plural(state.applied, "migration")} applied, latest ${state.latest}` };
      },
    };
  });
}
