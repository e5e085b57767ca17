import type { Client } from "pg";

/** The target side: the schema the application's PostgreSQL migrations created, read from pg_catalog. */

export interface TargetColumn {
  name: string;
  /** pg_type.typname, e.g. "int4", "timestamp", "jsonb". */
  udtName: string;
  /** pg_attribute.atttypmod (the domain's for a domain column): precision, scale or length; -1 when none. */
  typmod: number;
  /** format_type(), e.g. "timestamp(3) without time zone", for the plan. */
  displayType: string;
  notNull: boolean;
  hasDefault: boolean;
  /** GENERATED ALWAYS AS (...) STORED: computed by PostgreSQL, never copied into. */
  generated: boolean;
  /** The sequence behind a serial or identity column (pg_get_serial_sequence), if any. */
  sequence?: string;
}

export interface TargetForeignKey {
  name: string;
  table: string;
  columns: string[];
  references: string;
  referencedColumns: string[];
  deferrable: boolean;
}

export interface TargetTable {
  name: string;
  /** A partitioned table (relkind 'p'), which COPY TO can read only through a query. */
  partitioned: boolean;
  columns: TargetColumn[];
}

export interface TargetSchema {
  schema: string;
  tables: Map<string, TargetTable>;
  foreignKeys: TargetForeignKey[];
}

export async function readTargetSchema(client: Client, schema: string): Promise<TargetSchema> {
  const columns = await client.query<{
    table: string;
    column: string;
    udt: string;
    typmod: number;
    display: string;
    not_null: boolean;
    has_default: boolean;
    generated: boolean;
    sequence: string | null;
    partitioned: boolean;
  }>(
    `SELECT c.relname AS table, a.attname AS column, coalesce(base.typname, declared.typname) AS udt,
            CASE WHEN declared.typtype = 'd' THEN declared.typtypmod ELSE a.atttypmod END AS typmod, format_type(a.atttypid, a.atttypmod) AS display,
            a.attnotnull AS not_null, (a.atthasdef OR a.attidentity <> '') AS has_default, a.attgenerated <> '' AS generated,
            pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence, c.relkind = 'p' AS partitioned
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type declared ON declared.oid = a.atttypid
       LEFT JOIN pg_type base ON base.oid = declared.typbasetype
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const tables = new Map<string, TargetTable>();
  for (const row of columns.rows) {
    const table = tables.get(row.table) ?? { name: row.table, partitioned: row.partitioned, columns: [] };
    table.columns.push({
      name: row.column,
      udtName: row.udt,
      typmod: row.typmod,
      displayType: row.display,
      notNull: row.not_null,
      hasDefault: row.has_default,
      generated: row.generated,
      ...(row.sequence ? { sequence: row.sequence } : {}),
    });
    tables.set(row.table, table);
  }
  const keys = await client.query<{ name: string; table: string; references: string; deferrable: boolean; columns: string[]; referenced: string[] }>(
    `SELECT con.conname AS name, cl.relname AS table, rf.relname AS references, con.condeferrable AS deferrable,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i) AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i) AS referenced
       FROM pg_constraint con
       JOIN pg_class cl ON cl.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = cl.relnamespace
       JOIN pg_class rf ON rf.oid = con.confrelid
       JOIN pg_namespace rn ON rn.oid = rf.relnamespace
      WHERE con.contype = 'f' AND n.nspname = $1 AND rn.nspname = $1
      ORDER BY cl.relname, con.conname`,
    [schema],
  );
  return {
    schema,
    tables,
    foreignKeys: keys.rows.map((k) => ({
      name: k.name,
      table: k.table,
      columns: k.columns,
      references: k.references,
      referencedColumns: k.referenced,
      deferrable: k.deferrable,
    })),
  };
}
