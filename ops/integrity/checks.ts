import type { ClientBase } from "pg";
import type { CheckResult, CheckStatus } from "../lib/report";
import { displayName, plural, qualified, quoteIdent, splitTableName } from "./sql";

/**
 * The integrity checks: each is planned from the catalog (one consistent snapshot) and runs as one
 * set-based statement on a pooled read-only connection. Nothing here writes.
 */

export type CheckCategory =
  | "connectivity"
  | "schema"
  | "foreign keys"
  | "constraints"
  | "uniqueness"
  | "indexes"
  | "sequences"
  | "row counts"
  | "domain checks";

/** A check ready to run: `run` receives a client inside a READ ONLY transaction. */
export interface PlannedCheck {
  category: CheckCategory;
  name: string;
  /** Bytes the check reads, so the runner can start the largest first (the last one to finish sets the wall time). */
  weight?: number;
  /** Reads the verdicts of the amcheck index checks: run only once every index check has finished. */
  afterIndexes?: boolean;
  run(client: ClientBase): Promise<CheckOutcome[]>;
}

/** One or more report rows (a table scan reports its count and each re-checked constraint). */
export type CheckOutcome = Omit<CheckResult, "durationMs"> & {
  /** Set by the row-count rows: the table (display name) and its count in the snapshot. */
  rowCount?: { table: string; count: number };
};

/** A user-supplied query that must return zero rows, e.g. "payments never exceed their order". */
export interface DomainCheck {
  name: string;
  sql: string;
}

/** What the catalog says about the database; read once, in the shared snapshot. */
export interface Catalog {
  serverVersion: string;
  serverVersionNum: number;
  tables: TableInfo[];
  foreignKeys: ForeignKeyInfo[];
  unvalidated: UnvalidatedConstraint[];
  uniqueIndexes: UniqueIndexInfo[];
  btreeIndexes: { index: string; oid: number; unique: boolean; bytes: number; tableBytes: number }[];
  sequences: SequenceInfo[];
  amcheck: { installed: true; schema: string } | { installed: false; available: boolean };
}

interface TableInfo {
  schema: string;
  table: string;
  bytes: number;
}
interface ForeignKeyInfo {
  name: string;
  validated: boolean;
  matchFull: boolean;
  childSchema: string;
  child: string;
  childColumns: string[];
  parentSchema: string;
  parent: string;
  parentColumns: string[];
}
interface UnvalidatedConstraint {
  name: string;
  schema: string;
  table: string;
  kind: "check" | "not null";
  /** The CHECK expression, or the column a NOT NULL constraint covers. */
  expression: string;
}
interface UniqueIndexInfo {
  oid: number;
  index: string;
  schema: string;
  table: string;
  columns: string[];
  primary: boolean;
  predicate: string | null;
  nullsNotDistinct: boolean;
}
interface SequenceInfo {
  sequence: string;
  schema: string;
  table: string;
  column: string;
  lastValue: string | null;
  startValue: string;
  incrementBy: string;
}

const USER_SCHEMA = (alias: string) =>
  `${alias}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${alias}.nspname NOT LIKE 'pg\\_toast%' AND ${alias}.nspname NOT LIKE 'pg\\_temp%'`;

/** Reads everything the checks are planned from, in the caller's (snapshot) transaction. */
export async function readCatalog(client: ClientBase): Promise<Catalog> {
  const version = await client.query<{ v: string; n: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
  );
  const tables = await client.query<TableInfo>(
    `SELECT n.nspname AS schema, c.relname AS table, pg_table_size(c.oid)::float8 AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_SCHEMA("n")}
      ORDER BY 1, 2`,
  );
  const columns = (arr: string, rel: string) =>
    `(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(${arr}) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.attnum)`;
  const foreignKeys = await client.query<ForeignKeyInfo>(
    `SELECT con.conname AS name, con.convalidated AS validated, con.confmatchtype = 'f' AS "matchFull",
            cn.nspname AS "childSchema", c.relname AS child, ${columns("con.conkey", "con.conrelid")} AS "childColumns",
            pn.nspname AS "parentSchema", p.relname AS parent, ${columns("con.confkey", "con.confrelid")} AS "parentColumns"
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
      WHERE con.contype = 'f' AND con.conparentid = 0 AND ${USER_SCHEMA("cn")}
      ORDER BY 4, 5, 1`,
  );
  // NOT NULL constraints live in pg_constraint (contype 'n', possibly NOT VALID) from PostgreSQL 18.
  const unvalidated = await client.query<UnvalidatedConstraint>(
    `SELECT con.conname AS name, n.nspname AS schema, c.relname AS table,
            CASE con.contype WHEN 'c' THEN 'check' ELSE 'not null' END AS kind,
            CASE con.contype WHEN 'c' THEN pg_get_expr(con.conbin, con.conrelid)
                 ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = con.conkey[1]) END AS expression
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE con.contype IN ('c', 'n') AND NOT con.convalidated AND con.conrelid <> 0 AND ${USER_SCHEMA("n")}
      ORDER BY 2, 3, 1`,
  );
  const uniqueIndexes = await client.query<UniqueIndexInfo>(
    `SELECT ic.oid::int AS oid, ic.relname AS index, n.nspname AS schema, c.relname AS table,
            ${columns("i.indkey::int2[]", "i.indrelid")} AS columns, i.indisprimary AS primary,
            pg_get_expr(i.indpred, i.indrelid) AS predicate,
            coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS "nullsNotDistinct"
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indisunique AND i.indexprs IS NULL AND c.relkind = 'r' AND ${USER_SCHEMA("n")}
      ORDER BY 2, 3, 1`,
  );
  // Only indexes that are valid, ready and live: amcheck refuses the others, and the uniqueness
  // checks then read the heap instead.
  const btreeIndexes = await client.query<Catalog["btreeIndexes"][number]>(
    `SELECT CASE WHEN n.nspname = 'public' THEN ic.relname::text ELSE n.nspname || '.' || ic.relname END AS index, ic.oid::int AS oid,
            i.indisunique AS unique, pg_relation_size(ic.oid)::float8 AS bytes, pg_table_size(i.indrelid)::float8 AS "tableBytes"
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
       JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready AND i.indislive AND ic.relpersistence <> 't' AND ${USER_SCHEMA("n")}
      ORDER BY 1`,
  );
  const sequences = await client.query<SequenceInfo>(
    `SELECT format('%I.%I', sn.nspname, s.relname) AS sequence, tn.nspname AS schema, t.relname AS table, a.attname AS column,
            ps.last_value::text AS "lastValue", ps.start_value::text AS "startValue", ps.increment_by::text AS "incrementBy"
       FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
       JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = s.relname
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        AND ${USER_SCHEMA("tn")}
      ORDER BY 1`,
  );
  const installed = await client.query<{ schema: string }>(
    "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'",
  );
  const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'");
  const amcheckSchema = installed.rows[0]?.schema;
  const row = version.rows[0];
  if (!row) throw new Error("the server did not report its version");
  return {
    serverVersion: row.v,
    serverVersionNum: Number(row.n),
    tables: tables.rows,
    foreignKeys: foreignKeys.rows,
    unvalidated: unvalidated.rows,
    uniqueIndexes: uniqueIndexes.rows,
    btreeIndexes: btreeIndexes.rows,
    sequences: sequences.rows,
    amcheck: amcheckSchema !== undefined ? { installed: true, schema: amcheckSchema } : { installed: false, available: (available.rowCount ?? 0) > 0 },
  };
}

export interface PlanOptions {
  expectedTables: readonly string[];
  migrationsTable: string;
  domainChecks: readonly DomainCheck[];
  /** Reference row counts keyed by table display name; undefined when no reference was given. */
  referenceCounts: Record<string, number> | undefined;
  tolerancePercent: number;
  /** Also verify every heap tuple has its index entry (bt_index_check's heapallindexed; reads each table again). */
  heapAllIndexed: boolean;
}

const outcome = (check: string, status: CheckStatus, detail: string): CheckOutcome => ({ check, status, detail });

function sampleText(samples: readonly string[] | null): string {
  return samples && samples.length > 0 ? ` (e.g. ${samples.join(", ")})` : "";
}

/** The schema checks run on the coordinator, before anything else is planned. */
export function schemaOutcomes(catalog: Catalog, expectedTables: readonly string[]): CheckOutcome[] {
  const present = new Set(catalog.tables.map((t) => `${t.schema}.${t.table}`));
  const missing = expectedTables.filter((name) => {
    const { schema, table } = splitTableName(name);
    return !present.has(`${schema}.${table}`);
  });
  const check = `schema: expected tables (${expectedTables.length})`;
  if (expectedTables.length === 0) return [outcome(check, "info", "no expected tables given (--expected-tables users,orders,...)")];
  return missing.length === 0
    ? [outcome(check, "pass", `all present: ${expectedTables.join(", ")}`)]
    : [outcome(check, "fail", `missing: ${missing.join(", ")}; the restore lacks tables the application needs (were the migrations applied?)`)];
}

/** Builds every check the catalog calls for. */
export function planChecks(catalog: Catalog, options: PlanOptions): PlannedCheck[] {
  const checks: PlannedCheck[] = [];
  const present = new Set(catalog.tables.map((t) => `${t.schema}.${t.table}`));
  const tableBytes = new Map(catalog.tables.map((t) => [`${t.schema}.${t.table}`, Number(t.bytes)]));
  const bytesOf = (schema: string, table: string) => tableBytes.get(`${schema}.${table}`) ?? 0;
  // Filled by the amcheck index checks, read by the uniqueness checks (which the runner starts after them).
  const verifiedIndexes = new Set<number>();

  const migrations = splitTableName(options.migrationsTable);
  if (present.has(`${migrations.schema}.${migrations.table}`)) {
    checks.push({
      category: "schema",
      name: `migrations: ${options.migrationsTable}`,
      async run(client) {
        const { rows } = await client.query<{ applied: string; unfinished: string; latest: string | null; bad: string[] | null }>(
          `SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL)::text AS applied,
                  count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL)::text AS unfinished,
                  max(migration_name) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL) AS latest,
                  (array_agg(migration_name ORDER BY started_at) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL))[1:3] AS bad
             FROM ${qualified(migrations.schema, migrations.table)}`,
        );
        const r = rows[0];
        if (!r) throw new Error("the migrations query returned nothing");
        if (Number(r.unfinished) > 0) {
          return [outcome(this.name, "fail", `${plural(Number(r.unfinished), "migration")} started but never finished: ${(r.bad ?? []).join(", ")}`)];
        }
        if (Number(r.applied) === 0) return [outcome(this.name, "fail", "no migration applied; the schema was never migrated")];
        return [outcome(this.name, "pass", `${plural(Number(r.applied), "migration")} applied, latest ${r.latest}`)];
      },
    });
  } else {
    checks.push({
      category: "schema",
      name: `migrations: ${options.migrationsTable}`,
      run: async () => [outcome(`migrations: ${options.migrationsTable}`, "fail", `table ${options.migrationsTable} not found; the application's migrations were never applied here`)],
    });
  }

  for (const fk of catalog.foreignKeys) {
    const child = displayName(fk.childSchema, fk.child);
    const parent = displayName(fk.parentSchema, fk.parent);
    const name = `orphans: ${child}.${fk.childColumns.join(",")} -> ${parent}.${fk.parentColumns.join(",")}`;
    const cols = fk.childColumns.map((c) => `c.${quoteIdent(c)}`);
    const allSet = cols.map((c) => `${c} IS NOT NULL`).join(" AND ");
    const join = fk.childColumns.map((c, i) => `p.${quoteIdent(fk.parentColumns[i] as string)} = c.${quoteIdent(c)}`).join(" AND ");
    // MATCH SIMPLE (the default) skips a row when any key column is NULL; MATCH FULL forbids partly-NULL keys.
    const partlyNull = fk.matchFull && cols.length > 1 ? ` OR num_nulls(${cols.join(", ")}) BETWEEN 1 AND ${cols.length - 1}` : "";
    checks.push({
      category: "foreign keys",
      name,
      weight: bytesOf(fk.childSchema, fk.child) + bytesOf(fk.parentSchema, fk.parent),
      async run(client) {
        const { rows } = await client.query<{ n: string; samples: string[] | null }>(
          `WITH orphans AS (
             SELECT ${cols.join(", ")} FROM ${qualified(fk.childSchema, fk.child)} c
              WHERE (${allSet} AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.parentSchema, fk.parent)} p WHERE ${join}))${partlyNull})
           SELECT count(*)::text AS n, (SELECT array_agg(x) FROM (SELECT o::text AS x FROM orphans o LIMIT 3) s) AS samples FROM orphans`,
        );
        const n = Number(rows[0]?.n ?? 0);
        const state = fk.validated ? "" : " (constraint NOT VALID)";
        return n === 0
          ? [outcome(name, "pass", `no orphaned rows (${fk.name})${state}`)]
          : [outcome(name, "fail", `${plural(n, "orphaned row")} in ${child} reference no ${parent}${sampleText(rows[0]?.samples ?? null)}: ${fk.name}${state}`)];
      },
    });
  }

  const scans = new Map<string, UnvalidatedConstraint[]>();
  for (const c of catalog.unvalidated) {
    const key = `${c.schema}.${c.table}`;
    scans.set(key, [...(scans.get(key) ?? []), c]);
  }
  for (const t of catalog.tables) {
    const table = displayName(t.schema, t.table);
    const recheck = scans.get(`${t.schema}.${t.table}`) ?? [];
    const reference = options.referenceCounts;
    // One scan per table: its row count and every NOT VALID constraint on it, re-checked in the same pass.
    const filters = recheck.map((c, i) =>
      `count(*) FILTER (WHERE ${c.kind === "check" ? `(${c.expression}) IS FALSE` : `${quoteIdent(c.expression)} IS NULL`}) AS v${i}`,
    );
    checks.push({
      category: recheck.length > 0 ? "constraints" : "row counts",
      name: `rows: ${table}`,
      weight: Number(t.bytes),
      async run(client) {
        const { rows } = await client.query<Record<string, string>>(
          `SELECT ${["count(*) AS n", ...filters].join(", ")} FROM ${qualified(t.schema, t.table)}`,
        );
        const r = rows[0] ?? {};
        const count = Number(r.n ?? 0);
        const results: CheckOutcome[] = [{ ...countOutcome(table, count, reference, options.tolerancePercent), rowCount: { table, count } }];
        recheck.forEach((c, i) => {
          const bad = Number(r[`v${i}`] ?? 0);
          const check = `${c.kind === "check" ? "check" : "not null"} (NOT VALID): ${table}.${c.name}`;
          const rule = c.kind === "check" ? `CHECK (${c.expression})` : `${c.expression} IS NOT NULL`;
          results.push(
            bad === 0
              ? outcome(check, "pass", `every row satisfies ${rule}`)
              : outcome(check, "fail", `${plural(bad, "row")} ${bad === 1 ? "violates" : "violate"} ${rule}; the constraint was added NOT VALID and never validated`),
          );
        });
        return results;
      },
    });
  }
  if (options.referenceCounts) {
    const missing = Object.keys(options.referenceCounts).filter((name) => {
      const { schema, table } = splitTableName(name);
      return !present.has(`${schema}.${table}`);
    });
    for (const name of missing) {
      checks.push({
        category: "row counts",
        name: `rows: ${name}`,
        run: async () => [outcome(`rows: ${name} vs reference`, "fail", `table missing here; the reference has ${options.referenceCounts?.[name]} rows`)],
      });
    }
  }

  const indexByOid = new Map(catalog.btreeIndexes.map((i) => [i.oid, i]));
  for (const u of catalog.uniqueIndexes) {
    const table = displayName(u.schema, u.table);
    const name = `${u.primary ? "primary key" : "unique"}: ${table}(${u.columns.join(", ")})`;
    const cols = u.columns.map(quoteIdent);
    const where = [
      ...(u.nullsNotDistinct ? [] : cols.map((c) => `${c} IS NOT NULL`)),
      ...(u.predicate ? [`(${u.predicate})`] : []),
    ];
    const duplicates = `SELECT count(*)::text AS n, (array_agg(d::text))[1:3] AS samples
             FROM (SELECT ${cols.join(", ")} FROM ${qualified(u.schema, u.table)}
                    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
                    GROUP BY ${cols.join(", ")} HAVING count(*) > 1) d`;
    const amchecked = catalog.amcheck.installed && indexByOid.has(u.oid);
    checks.push({
      category: "uniqueness",
      name,
      weight: bytesOf(u.schema, u.table) + (indexByOid.get(u.oid)?.bytes ?? 0),
      afterIndexes: amchecked,
      async run(client) {
        if (verifiedIndexes.has(u.oid)) {
          // amcheck just proved, in this snapshot, that the index is well ordered and holds every
          // heap tuple with its exact key (heapallindexed). Duplicates in the heap are then adjacent
          // entries of the index: one ordered pass over the index, no hashing or sorting of the heap.
          await client.query(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashagg = off; SET LOCAL enable_sort = off",
          );
          if (await readsOnly(client, duplicates, u.index)) {
            const { rows } = await client.query<{ n: string }>(duplicates);
            // An index entry with a wrong key (which heapallindexed cannot see) can only add duplicates:
            // a hit is confirmed, and named, from the heap below.
            if (Number(rows[0]?.n ?? 0) === 0) return [outcome(name, "pass", `no duplicate keys (${u.index}, read in key order after amcheck verified it)`)];
          }
          await client.query("SET LOCAL enable_seqscan = on; SET LOCAL enable_hashagg = on; SET LOCAL enable_sort = on");
        }
        // Scan the heap, not the index being checked: a damaged index can hide the duplicates it should prevent.
        await client.query("SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off");
        const { rows } = await client.query<{ n: string; samples: string[] | null }>(duplicates);
        const n = Number(rows[0]?.n ?? 0);
        const path = amchecked ? ", heap scan: amcheck did not verify the index" : ", heap scan";
        return n === 0
          ? [outcome(name, "pass", `no duplicate keys (${u.index}${path})`)]
          : [outcome(name, "fail", `${plural(n, "key")} ${n === 1 ? "appears" : "appear"} more than once${sampleText(rows[0]?.samples ?? null)} despite ${u.index}`)];
      },
    });
  }

  if (catalog.amcheck.installed) {
    const fn = `${quoteIdent(catalog.amcheck.schema)}.bt_index_check`;
    for (const idx of catalog.btreeIndexes) {
      const name = `index: ${idx.index}`;
      // A unique index is always checked with heapallindexed: its uniqueness check relies on it.
      const heapAllIndexed = options.heapAllIndexed || idx.unique;
      checks.push({
        category: "indexes",
        name,
        weight: idx.bytes + (heapAllIndexed ? idx.tableBytes : 0),
        async run(client) {
          await client.query(`SELECT ${fn}($1::oid::regclass, $2)`, [idx.oid, heapAllIndexed]);
          verifiedIndexes.add(idx.oid);
          return [outcome(name, "pass", `bt_index_check: consistent${heapAllIndexed ? ", every heap tuple indexed" : ""}`)];
        },
      });
    }
  }

  for (const s of catalog.sequences) {
    const table = displayName(s.schema, s.table);
    const name = `sequence: ${s.sequence} >= max(${table}.${s.column})`;
    checks.push({
      category: "sequences",
      name,
      weight: 0,
      async run(client) {
        const { rows } = await client.query<{ max: string | null }>(
          `SELECT max(${quoteIdent(s.column)})::text AS max FROM ${qualified(s.schema, s.table)}`,
        );
        const max = rows[0]?.max ?? null;
        const increment = BigInt(s.incrementBy);
        if (increment < 0n) return [outcome(name, "info", "descending sequence; not compared")];
        const next = s.lastValue === null ? BigInt(s.startValue) : BigInt(s.lastValue) + increment;
        if (max === null || BigInt(max) < next) {
          return [outcome(name, "pass", `next value ${next}, column max ${max ?? "(empty)"}`)];
        }
        return [
          outcome(
            name,
            "fail",
            `next value ${next} is not above the column's max ${max}: the next insert collides; fix with SELECT setval('${s.sequence}', ${max})`,
          ),
        ];
      },
    });
  }

  for (const d of options.domainChecks) {
    const name = `domain: ${d.name}`;
    checks.push({
      category: "domain checks",
      name,
      // Arbitrary SQL: assume it reads everything, so it starts early.
      weight: [...tableBytes.values()].reduce((a, b) => a + b, 0),
      async run(client) {
        const { rows } = await client.query<{ n: string; samples: string[] | null }>(
          `SELECT count(*)::text AS n, (array_agg(x))[1:3] AS samples FROM (SELECT q::text AS x FROM (${d.sql.replace(/;\s*$/, "")}) q) s`,
        );
        const n = Number(rows[0]?.n ?? 0);
        return n === 0
          ? [outcome(name, "pass", "no rows returned")]
          : [outcome(name, "fail", `${plural(n, "row")} returned, none expected${sampleText(rows[0]?.samples ?? null)}`)];
      },
    });
  }
  return checks;
}

function countOutcome(table: string, count: number, reference: Record<string, number> | undefined, tolerancePercent: number): CheckOutcome {
  const check = `rows: ${table}${reference ? " vs reference" : ""}`;
  if (!reference) return outcome(check, "info", `${count} rows`);
  const expected = reference[table];
  if (expected === undefined) return outcome(check, "info", `${count} rows (not in the reference)`);
  const allowed = (expected * tolerancePercent) / 100;
  const diff = count - expected;
  const detail = `${count} rows, reference ${expected} (${diff >= 0 ? "+" : ""}${diff}; tolerance ${tolerancePercent}% = ${Math.floor(allowed)})`;
  return Math.abs(diff) <= allowed ? outcome(check, "pass", detail) : outcome(check, "fail", detail);
}

/** True when the plan of `sql` reads its table only through `index` (an index-only or index scan), nothing else. */
async function readsOnly(client: ClientBase, sql: string, index: string): Promise<boolean> {
  const { rows } = await client.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`);
  const scans: { index: unknown; type: unknown }[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node["Relation Name"] !== undefined) scans.push({ index: node["Index Name"], type: node["Node Type"] });
    for (const child of (node["Plans"] as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = (rows[0]?.["QUERY PLAN"] as { Plan: Record<string, unknown> }[] | undefined)?.[0]?.Plan;
  if (plan) walk(plan);
  return scans.length > 0 && scans.every((s) => s.index === index && (s.type === "Index Only Scan" || s.type === "Index Scan"));
}
