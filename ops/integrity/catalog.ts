import type { ClientBase } from "pg";
import { KNOWN_MIGRATION_TABLES } from "./migrations";
import { splitTableName } from "./sql";

/**
 * What the catalog says about the database, read once in the validation's shared snapshot. The
 * pg_catalog tables are readable by every role, so the plan is complete even for a role that may
 * not read some tables: each item carries the privileges it lacks (`denied`), and the planners
 * turn those into one finding per missing privilege instead of one failure per check.
 */

/** Privileges the connected role lacks to read what a check reads, e.g. "SELECT on table orders". */
type Denied = string[];

interface TableInfo {
  schema: string;
  table: string;
  bytes: number;
  /** A partitioned table: scanned as a whole tree (its partitions are not listed as tables). */
  partitioned: boolean;
  denied: Denied;
}
interface ForeignKeyInfo {
  name: string;
  validated: boolean;
  matchFull: boolean;
  childSchema: string;
  child: string;
  childPartitioned: boolean;
  childColumns: string[];
  parentSchema: string;
  parent: string;
  parentPartitioned: boolean;
  parentColumns: string[];
  denied: Denied;
}
export interface UnvalidatedConstraint {
  name: string;
  /** The table whose scan re-checks it: the root of a partition tree, else the constraint's own table. */
  schema: string;
  table: string;
  /** The partition the constraint is on (display name), when it is not the table itself. */
  partition: string | null;
  /** Oid of the constraint's relation, to filter a partition's rows in its root's scan (tableoid). */
  relationOid: number;
  kind: "check" | "not null";
  /** The CHECK expression, or the column a NOT NULL constraint covers. */
  expression: string;
}
interface UniqueIndexInfo {
  oid: number;
  index: string;
  schema: string;
  table: string;
  /** Key columns and expressions as SQL (INCLUDE columns left out): `email`, `lower(email)`. */
  keys: string[];
  primary: boolean;
  /** The WHERE of a partial index. */
  predicate: string | null;
  nullsNotDistinct: boolean;
  valid: boolean;
  denied: Denied;
}
interface BtreeIndexInfo {
  index: string;
  oid: number;
  unique: boolean;
  bytes: number;
  tableBytes: number;
  /** The planner's estimate of the table's rows (pg_class.reltuples; -1 before the first ANALYZE or VACUUM). */
  tableRows: number;
}
interface InvalidIndexInfo {
  index: string;
  /** The index as SQL (schema-qualified and quoted as needed). */
  ref: string;
  table: string;
  unique: boolean;
  /** An index on a partitioned table: invalid while some partition lacks its index. */
  partitioned: boolean;
  definition: string;
}
interface SequenceInfo {
  /** Schema-qualified and quoted as needed, usable in SQL and in setval(). */
  sequence: string;
  schema: string;
  table: string;
  partitioned: boolean;
  column: string;
  incrementBy: string;
  minValue: string;
  maxValue: string;
  cycle: boolean;
  denied: Denied;
}
export interface MigrationTableInfo {
  schema: string;
  table: string;
  partitioned: boolean;
  columns: string[];
  denied: Denied;
}

export interface Catalog {
  serverVersion: string;
  serverVersionNum: number;
  /** The connected role, quoted as needed (for GRANT statements in findings). */
  role: string;
  tables: TableInfo[];
  foreignKeys: ForeignKeyInfo[];
  unvalidated: UnvalidatedConstraint[];
  uniqueIndexes: UniqueIndexInfo[];
  btreeIndexes: BtreeIndexInfo[];
  invalidIndexes: InvalidIndexInfo[];
  sequences: SequenceInfo[];
  /** Tables that may be migration tables: the known tools' names, and the one asked for. */
  migrationTables: MigrationTableInfo[];
  /** `function`: amcheck's bt_index_check, schema-qualified and quoted as needed. */
  amcheck: { installed: true; schema: string; function: string; executable: boolean } | { installed: false; available: boolean };
}

const USER_SCHEMA = (alias: string) =>
  `${alias}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${alias}.nspname NOT LIKE 'pg\\_toast%' AND ${alias}.nspname NOT LIKE 'pg\\_temp%'`;

/** The privilege the role lacks to read relation `c` in schema `n`, or NULL. */
const deniedOn = (n: string, c: string) =>
  `CASE WHEN NOT has_schema_privilege(${n}.oid, 'USAGE') THEN format('USAGE on schema %I', ${n}.nspname)
        WHEN NOT has_table_privilege(${c}.oid, 'SELECT')
        THEN format('SELECT on %s %s', CASE ${c}.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, ${c}.oid::regclass) END`;
const denied = (...pairs: [string, string][]) => `array_remove(ARRAY[${pairs.map(([n, c]) => deniedOn(n, c)).join(", ")}]::text[], NULL)`;

const DISPLAY = (n: string, c: string) => `CASE WHEN ${n}.nspname = 'public' THEN ${c}.relname::text ELSE ${n}.nspname || '.' || ${c}.relname END`;

/**
 * Reads everything the checks are planned from, in the caller's (snapshot) transaction.
 * `migrationsTable` names a migrations table besides the known tools' ones.
 */
export async function readCatalog(client: ClientBase, options: { migrationsTable?: string } = {}): Promise<Catalog> {
  const version = await client.query<{ v: string; n: string; u: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, quote_ident(current_user) AS u",
  );
  const tables = await client.query<TableInfo>(
    `SELECT n.nspname AS schema, c.relname AS table, pg_table_size(c.oid)::float8 AS bytes, c.relkind = 'p' AS partitioned,
            ${denied(["n", "c"])} AS denied
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_SCHEMA("n")}
      ORDER BY 1, 2`,
  );
  const columns = (arr: string, rel: string) =>
    `(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(${arr}) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.attnum)`;
  // Foreign keys declared on a partitioned table are cloned onto each partition (conparentid <> 0):
  // the declared one is checked over the whole tree.
  const foreignKeys = await client.query<ForeignKeyInfo>(
    `SELECT con.conname AS name, con.convalidated AS validated, con.confmatchtype = 'f' AS "matchFull",
            cn.nspname AS "childSchema", c.relname AS child, c.relkind = 'p' AS "childPartitioned", ${columns("con.conkey", "con.conrelid")} AS "childColumns",
            pn.nspname AS "parentSchema", p.relname AS parent, p.relkind = 'p' AS "parentPartitioned", ${columns("con.confkey", "con.confrelid")} AS "parentColumns",
            ${denied(["cn", "c"], ["pn", "p"])} AS denied
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
      WHERE con.contype = 'f' AND con.conparentid = 0 AND ${USER_SCHEMA("cn")}
      ORDER BY 4, 5, 1`,
  );
  // NOT VALID constraints on plain tables and on partitions. One added to a partitioned table is
  // copied onto each partition (also NOT VALID), and one can be added to a partition directly: the
  // partitions' copies are what hold rows, so they are what is re-checked, in the root's scan.
  // NOT NULL constraints live in pg_constraint (contype 'n', possibly NOT VALID) from PostgreSQL 18.
  const unvalidated = await client.query<UnvalidatedConstraint>(
    `SELECT con.conname AS name, rn.nspname AS schema, r.relname AS table,
            CASE WHEN r.oid <> c.oid THEN ${DISPLAY("n", "c")} END AS partition, c.oid::int AS "relationOid",
            CASE con.contype WHEN 'c' THEN 'check' ELSE 'not null' END AS kind,
            CASE con.contype WHEN 'c' THEN pg_get_expr(con.conbin, con.conrelid)
                 ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = con.conkey[1]) END AS expression
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class r ON r.oid = coalesce(pg_partition_root(c.oid), c.oid) JOIN pg_namespace rn ON rn.oid = r.relnamespace
      WHERE con.contype IN ('c', 'n') AND NOT con.convalidated AND c.relkind = 'r' AND ${USER_SCHEMA("n")}
      ORDER BY 2, 3, 4 NULLS FIRST, 1`,
  );
  // Unique indexes on plain tables and partitions (a partitioned table's unique index is one per
  // partition), INVALID ones included: a failed CREATE UNIQUE INDEX CONCURRENTLY leaves the
  // duplicates it tripped on. Keys come as SQL, so expression indexes are checked by their own
  // expressions; INCLUDE columns are not part of the key.
  const uniqueIndexes = await client.query<UniqueIndexInfo>(
    `SELECT ic.oid::int AS oid, ic.relname AS index, n.nspname AS schema, c.relname AS table,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k) AS keys,
            i.indisprimary AS primary, pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
            coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS "nullsNotDistinct",
            i.indisvalid AS valid, ${denied(["n", "c"])} AS denied
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indisunique AND i.indislive AND c.relkind = 'r' AND ${USER_SCHEMA("n")}
      ORDER BY 3, 4, 2`,
  );
  // amcheck verifies leaf B-tree indexes that are valid, ready and live; a partitioned index has no
  // storage ("only B-Tree indexes are supported"), its partitions' indexes are checked instead.
  const btreeIndexes = await client.query<BtreeIndexInfo>(
    `SELECT ${DISPLAY("n", "ic")} AS index, ic.oid::int AS oid,
            i.indisunique AS unique, pg_relation_size(ic.oid)::float8 AS bytes, pg_table_size(i.indrelid)::float8 AS "tableBytes",
            (SELECT tc.reltuples::float8 FROM pg_class tc WHERE tc.oid = i.indrelid) AS "tableRows"
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
       JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE am.amname = 'btree' AND ic.relkind = 'i' AND i.indisvalid AND i.indisready AND i.indislive AND ic.relpersistence <> 't' AND ${USER_SCHEMA("n")}
      ORDER BY 1`,
  );
  const invalidIndexes = await client.query<InvalidIndexInfo>(
    `SELECT ${DISPLAY("n", "ic")} AS index, ic.oid::regclass::text AS ref, ${DISPLAY("tn", "c")} AS table, i.indisunique AS unique,
            ic.relkind = 'I' AS partitioned, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = c.relnamespace
      WHERE NOT i.indisvalid AND ${USER_SCHEMA("n")}
      ORDER BY 1`,
  );
  // A column takes values from a sequence it owns (serial, OWNED BY), from its identity, or from a
  // DEFAULT nextval(...) naming any sequence. A partition's column maps to its root's column.
  const sequences = await client.query<SequenceInfo>(
    `WITH uses AS (
       SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS attnum FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
       UNION
       SELECT d.refobjid, ad.adrelid, ad.adnum FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
        WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
     )
     SELECT DISTINCT format('%I.%I', sn.nspname, s.relname) AS sequence, tn.nspname AS schema, t.relname AS table, t.relkind = 'p' AS partitioned,
            a.attname AS column, ps.seqincrement::text AS "incrementBy", ps.seqmin::text AS "minValue", ps.seqmax::text AS "maxValue",
            ps.seqcycle AS cycle, ${denied(["sn", "s"], ["tn", "t"])} AS denied
       FROM uses u JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_sequence ps ON ps.seqrelid = s.oid
       JOIN pg_attribute ua ON ua.attrelid = u.rel AND ua.attnum = u.attnum
       JOIN pg_class t ON t.oid = coalesce(pg_partition_root(u.rel), u.rel) JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = ua.attname AND NOT a.attisdropped
      WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype) AND ${USER_SCHEMA("tn")}
      ORDER BY 1, 2, 3, 5`,
  );
  const wanted = options.migrationsTable === undefined ? [] : [splitTableName(options.migrationsTable)];
  const migrationTables = await client.query<MigrationTableInfo>(
    `SELECT n.nspname AS schema, c.relname AS table, c.relkind = 'p' AS partitioned,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
            ${denied(["n", "c"])} AS denied
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_SCHEMA("n")}
        AND (c.relname = ANY($1::text[]) OR (n.nspname, c.relname) IN (SELECT * FROM unnest($2::text[], $3::text[])))
      ORDER BY 1, 2`,
    [
      [...KNOWN_MIGRATION_TABLES],
      wanted.flatMap((w) => [w.schema, w.schema]),
      wanted.flatMap((w) => [w.table, `${w.table}_lock`]),
    ],
  );
  const installed = await client.query<{ schema: string; function: string; executable: boolean }>(
    `SELECT n.nspname AS schema, format('%I.bt_index_check', n.nspname) AS function, has_function_privilege(format('%I.bt_index_check(regclass, boolean)', n.nspname), 'EXECUTE') AS executable
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'`,
  );
  const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'");
  const amcheck = installed.rows[0];
  const row = version.rows[0];
  if (!row) throw new Error("the server did not report its version");
  return {
    serverVersion: row.v,
    serverVersionNum: Number(row.n),
    role: row.u,
    tables: tables.rows,
    foreignKeys: foreignKeys.rows,
    unvalidated: unvalidated.rows,
    uniqueIndexes: uniqueIndexes.rows,
    btreeIndexes: btreeIndexes.rows,
    invalidIndexes: invalidIndexes.rows,
    sequences: sequences.rows,
    migrationTables: migrationTables.rows,
    amcheck: amcheck ? { installed: true, ...amcheck } : { installed: false, available: (available.rowCount ?? 0) > 0 },
  };
}
