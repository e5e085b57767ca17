import type { TargetForeignKey, TargetSchema, TargetTable } from "./postgres";
import { isSqliteInternal, type SqliteSchema } from "./sqlite";
import { KIND_DESCRIPTION, kindForType, type ColumnType } from "./values";

/**
 * The migration plan: which SQLite table goes into which PostgreSQL table, in foreign-key order,
 * and how each column's values are mapped. `--dry-run` prints it and stops.
 */

/**
 * Prisma's migration history. Not copied: the PostgreSQL database's own history was written by
 * `prisma migrate deploy` for the PostgreSQL migrations; the SQLite rows name SQLite migration files
 * and checksums, and copying them would make Prisma see a history it never applied.
 */
export const PRISMA_MIGRATIONS_TABLE = "_prisma_migrations";

export interface ColumnPlan {
  /** The SQLite column. */
  source: string;
  /** The PostgreSQL column. */
  name: string;
  sourceType: string;
  targetType: string;
  type: ColumnType;
  /** A generated column in SQLite whose values are copied (the PostgreSQL column is a plain one). */
  generated?: "virtual" | "stored";
  /** How its values are read, when the plan decided something (e.g. an epoch unit). */
  note?: string;
}

export interface TablePlan {
  source: string;
  target: string;
  rows: number;
  columns: ColumnPlan[];
  /** Target columns absent from the source: filled by their defaults. */
  defaulted: string[];
  /** Generated in both databases: PostgreSQL computes the values, nothing is copied. */
  computed: string[];
  /** Target columns with a sequence to reset after the load. */
  sequences: { column: string; sequence: string; sqliteSeq?: number }[];
  /** False for a WITHOUT ROWID source table. */
  hasRowid: boolean;
}

export interface MigrationPlan {
  schema: string;
  /** Parents before children. */
  tables: TablePlan[];
  skipped: { table: string; reason: string }[];
  /** Target tables with no SQLite counterpart: left as they are. */
  untouched: string[];
  /** Foreign keys inside a cycle (including self-references): checked at the end of the load. */
  cyclicKeys: TargetForeignKey[];
  /** Reasons the migration cannot run; empty when it can. */
  problems: string[];
}

function matchByName<T>(name: string, candidates: Map<string, T>): T | undefined {
  const exact = candidates.get(name);
  if (exact) return exact;
  const folded = [...candidates.entries()].filter(([key]) => key.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0]?.[1] : undefined;
}

/** Strongly connected components (Tarjan), each a list of table names. */
function components(nodes: readonly string[], edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, indexOf.get(next) as number));
      }
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      result.push(component.sort());
    }
  };
  for (const node of nodes) if (!indexOf.has(node)) visit(node);
  return result;
}

/**
 * Orders tables so every referenced table loads before the tables referencing it (Kahn's algorithm
 * over the strongly connected components, ties broken by name so the order is stable), and returns
 * the keys inside cycles, which no order can satisfy row by row.
 */
export function loadOrder(tables: readonly string[], keys: readonly TargetForeignKey[]): { order: string[]; cyclicKeys: TargetForeignKey[] } {
  const inSet = new Set(tables);
  const parentsOf = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const key of keys) if (inSet.has(key.table) && inSet.has(key.references)) parentsOf.get(key.table)?.add(key.references);
  const sccs = components([...tables].sort(), parentsOf);
  const sccOf = new Map<string, number>();
  sccs.forEach((members, i) => members.forEach((m) => sccOf.set(m, i)));
  const cyclicKeys = keys.filter((k) => inSet.has(k.table) && inSet.has(k.references) && sccOf.get(k.table) === sccOf.get(k.references));

  const waitingOn = sccs.map(() => new Set<number>());
  const children = sccs.map(() => new Set<number>());
  for (const [table, parents] of parentsOf) {
    for (const parent of parents) {
      const c = sccOf.get(table) as number;
      const p = sccOf.get(parent) as number;
      if (c !== p) {
        waitingOn[c]?.add(p);
        children[p]?.add(c);
      }
    }
  }
  const label = (i: number) => (sccs[i] as string[])[0] as string;
  const ready = sccs.map((_, i) => i).filter((i) => waitingOn[i]?.size === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (label(a) < label(b) ? -1 : label(a) > label(b) ? 1 : 0));
    const next = ready.shift() as number;
    order.push(...(sccs[next] as string[]));
    for (const child of children[next] ?? []) {
      waitingOn[child]?.delete(next);
      if (waitingOn[child]?.size === 0) ready.push(child);
    }
  }
  return { order, cyclicKeys };
}

/** Why a virtual table or shadow table is not copied. */
function virtualReason(kind: "virtual" | "shadow", module: string | undefined): string {
  if (kind === "shadow") return "shadow table of a virtual table (its module's own storage)";
  return `virtual table (${module ?? "unknown module"}): not copied; the application's PostgreSQL migrations build its search index or equivalent`;
}

export function buildPlan(source: SqliteSchema, target: TargetSchema): MigrationPlan {
  const problems: string[] = [];
  const skipped: MigrationPlan["skipped"] = source.virtualTables.map((v) => ({ table: v.name, reason: virtualReason(v.kind, v.module) }));
  const planned = new Map<string, TablePlan>();
  for (const table of source.tables) {
    if (isSqliteInternal(table.name)) {
      skipped.push({ table: table.name, reason: "SQLite's own bookkeeping" });
      continue;
    }
    if (table.name === PRISMA_MIGRATIONS_TABLE) {
      skipped.push({ table: table.name, reason: "PostgreSQL keeps the history prisma migrate deploy wrote for its own migrations" });
      continue;
    }
    const into: TargetTable | undefined = matchByName(table.name, target.tables);
    if (!into) {
      problems.push(
        `table ${table.name} (${table.rowCount} rows) has no table in PostgreSQL schema "${target.schema}": run the application's migrations (prisma migrate deploy) against the target first`,
      );
      continue;
    }
    const targetColumns = new Map(into.columns.map((c) => [c.name, c]));
    const columns: ColumnPlan[] = [];
    const computed: string[] = [];
    const used = new Set<string>();
    let rowidColumn: string | undefined;
    for (const column of table.columns) {
      const to = matchByName(column.name, targetColumns);
      if (!to) {
        problems.push(`column ${table.name}.${column.name} has no column in ${into.name}: its values would be lost`);
        continue;
      }
      if (to.generated && column.generated) {
        used.add(to.name);
        computed.push(to.name);
        continue;
      }
      if (to.generated) {
        problems.push(`column ${table.name}.${column.name} maps to the generated column ${into.name}.${to.name}, which cannot be written`);
        continue;
      }
      used.add(to.name);
      // The INTEGER PRIMARY KEY is the rowid, the column sqlite_sequence counts for.
      if (column.primaryKey === 1 && table.columns.filter((c) => c.primaryKey > 0).length === 1 && /^integer$/i.test(column.declaredType)) rowidColumn = to.name;
      columns.push({
        source: column.name,
        name: to.name,
        sourceType: column.declaredType || "(none)",
        targetType: to.displayType,
        type: { kind: kindForType(to.udtName), typmod: to.typmod },
        ...(column.generated ? { generated: column.generated } : {}),
      });
    }
    const defaulted = into.columns.filter((c) => !used.has(c.name) && !c.generated);
    for (const c of defaulted) {
      if (c.notNull && !c.hasDefault) problems.push(`column ${into.name}.${c.name} is NOT NULL without a default and has no SQLite column ${table.name}.${c.name}`);
    }
    planned.set(into.name, {
      source: table.name,
      target: into.name,
      rows: table.rowCount,
      columns,
      defaulted: defaulted.map((c) => c.name),
      computed,
      sequences: into.columns
        .filter((c) => c.sequence !== undefined)
        .map((c) => ({ column: c.name, sequence: c.sequence as string, ...(c.name === rowidColumn && table.autoincrementSeq !== undefined ? { sqliteSeq: table.autoincrementSeq } : {}) })),
      hasRowid: table.hasRowid,
    });
  }
  const { order, cyclicKeys } = loadOrder([...planned.keys()], target.foreignKeys);
  return {
    schema: target.schema,
    tables: order.map((name) => planned.get(name) as TablePlan),
    skipped,
    untouched: [...target.tables.keys()].filter((name) => !planned.has(name) && name !== PRISMA_MIGRATIONS_TABLE).sort(),
    cyclicKeys,
    problems,
  };
}

/** The plan as text, for --dry-run and the start of every run. */
export function renderPlan(plan: MigrationPlan): string {
  const total = plan.tables.reduce((sum, t) => sum + t.rows, 0);
  const lines = [`Plan: ${plan.tables.length} tables, ${total} rows into schema "${plan.schema}", in foreign-key order`];
  plan.tables.forEach((table, i) => {
    lines.push(`${String(i + 1).padStart(3)}. ${table.source} -> ${table.target} (${table.rows} rows)`);
    for (const c of table.columns) {
      const generated = c.generated ? `; generated (${c.generated.toUpperCase()}) in SQLite, its values copied into a plain column` : "";
      const note = c.note ? `; ${c.note}` : "";
      lines.push(`       ${c.source === c.name ? c.name : `${c.source} -> ${c.name}`}: ${c.sourceType} -> ${c.targetType} [${KIND_DESCRIPTION[c.type.kind]}${generated}${note}]`);
    }
    for (const c of table.computed) lines.push(`       ${c}: generated in both databases, computed by PostgreSQL (not copied)`);
    for (const c of table.defaulted) lines.push(`       ${c}: not in SQLite, gets its default`);
    for (const s of table.sequences) {
      const mark = s.sqliteSeq === undefined ? "" : ` or past sqlite_sequence's ${s.sqliteSeq} (ids already handed out), whichever is higher`;
      lines.push(`       ${s.column}: sequence ${s.sequence} reset past the column maximum${mark}`);
    }
  });
  for (const key of plan.cyclicKeys) lines.push(`  cycle: ${key.table}.${key.name} -> ${key.references} is checked at the end of the load`);
  for (const s of plan.skipped) lines.push(`  skipped ${s.table}: ${s.reason}`);
  for (const t of plan.untouched) lines.push(`  untouched ${t}: no SQLite table`);
  for (const p of plan.problems) lines.push(`  PROBLEM: ${p}`);
  return lines.join("\n");
}
