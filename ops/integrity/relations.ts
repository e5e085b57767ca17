import { escapeIdentifier, escapeLiteral, type ClientBase } from "pg";
import { outcome, sampleText, type CheckOutcome, type PlanContext, type PlannedCheck } from "./checks";
import type { UnvalidatedConstraint } from "./catalog";
import { plural } from "../lib/report";
import { displayName, scanTarget, withSettings } from "./sql";

/**
 * The checks of the data itself, one planner per category: orphans per foreign key, one scan per
 * table (row count and NOT VALID constraints), duplicates per unique index, amcheck per B-tree
 * index, INVALID indexes, and sequences against their columns.
 */

export function planForeignKeyChecks(context: PlanContext): PlannedCheck[] {
  return context.catalog.foreignKeys.flatMap((fk): PlannedCheck[] => {
    const child = displayName(fk.childSchema, fk.child);
    const parent = displayName(fk.parentSchema, fk.parent);
    const name = `orphans: ${child}.${fk.childColumns.join(",")} -> ${parent}.${fk.parentColumns.join(",")}`;
    if (context.blocked(fk.denied, name)) return [];
    const cols = fk.childColumns.map((c) => `c.${escapeIdentifier(c)}`);
    const allSet = cols.map((c) => `${c} IS NOT NULL`).join(" AND ");
    const join = fk.childColumns.map((c, i) => `p.${escapeIdentifier(fk.parentColumns[i] as string)} = c.${escapeIdentifier(c)}`).join(" AND ");
    // MATCH SIMPLE (the default) skips a row when any key column is NULL; MATCH FULL forbids partly-NULL keys.
    const partlyNull = fk.matchFull && cols.length > 1 ? ` OR num_nulls(${cols.join(", ")}) BETWEEN 1 AND ${cols.length - 1}` : "";
    const childScan = scanTarget({ schema: fk.childSchema, table: fk.child, partitioned: fk.childPartitioned });
    const parentScan = scanTarget({ schema: fk.parentSchema, table: fk.parent, partitioned: fk.parentPartitioned });
    const orphans = (childRows: string) =>
      `WITH orphans AS (
         SELECT ${cols.join(", ")} FROM ${childRows} c
          WHERE (${allSet} AND NOT EXISTS (SELECT 1 FROM ${parentScan} p WHERE ${join}))${partlyNull})
       SELECT count(*)::text AS n, (SELECT array_agg(x) FROM (SELECT o::text AS x FROM orphans o LIMIT 3) s) AS samples FROM orphans`;
    // Every child row read from the heap (the OFFSET 0 fence keeps the child's own indexes out of it),
    // sorted, and merged with the parent read in key order through its unique index.
    const merged = orphans(`(SELECT ${cols.join(", ")} FROM ${childScan} c OFFSET 0)`);
    const fromHeaps = orphans(childScan);
    return [
      {
        category: "foreign keys",
        name,
        weight: context.bytesOf(fk.childSchema, fk.child) + context.bytesOf(fk.parentSchema, fk.parent),
        async run(client) {
          type Orphans = { n: string; samples: string[] | null };
          // A merge reads memory in order and grows as n log n; a hash of millions of keys misses
          // the CPU caches on every probe (payments -> orders on the 21 M-row sample: 6.4 s merged,
          // 13.6 s hashed; 0.7 s either way at 2.1 M).
          // A parent row the index scan returns is a visible heap row, so a child it matches has its
          // parent: no orphan can be missed. An index that lost entries can only add orphans, so any
          // hit is counted, and named, again from both heaps alone.
          let rows = await withSettings(client, MERGE_JOIN, async () =>
            (await readsChildFromHeap(client, merged)) ? (await client.query<Orphans>(merged)).rows : undefined,
          );
          if (rows === undefined || Number(rows[0]?.n ?? 0) > 0) rows = await withSettings(client, HEAPS_ONLY, async () => (await client.query<Orphans>(fromHeaps)).rows);
          const n = Number(rows[0]?.n ?? 0);
          const state = fk.validated ? "" : " (constraint NOT VALID)";
          return n === 0
            ? [outcome(name, "pass", `no orphaned rows (${fk.name})${state}`)]
            : [outcome(name, "fail", `${plural(n, "orphaned row")} in ${child} ${n === 1 ? "references" : "reference"} no ${parent}${sampleText(rows[0]?.samples ?? null)}: ${fk.name}${state}`)];
        },
      },
    ];
  });
}

/** Planner settings of the orphan check's merge: no hash join, parents through an index scan (never index-only: an index-only scan trusts the index alone). */
const MERGE_JOIN = { enable_hashjoin: "off", enable_indexonlyscan: "off", enable_bitmapscan: "off", max_parallel_workers_per_gather: "0" };
/** Both tables read from their heaps: no index is trusted. */
const HEAPS_ONLY = { enable_indexscan: "off", enable_indexonlyscan: "off", enable_bitmapscan: "off" };

/** True when the plan of `sql` reads the child (alias `c`, its partitions `c_1`, ...) by sequential scans only. */
async function readsChildFromHeap(client: ClientBase, sql: string): Promise<boolean> {
  const scans = await planScans(client, sql);
  const child = scans.filter((s) => typeof s.alias === "string" && /^c(_\d+)?$/.test(s.alias));
  return child.length > 0 && child.every((s) => s.type === "Seq Scan");
}

function violation(c: UnvalidatedConstraint): string {
  const bad = c.kind === "check" ? `(${c.expression}) IS FALSE` : `${escapeIdentifier(c.expression)} IS NULL`;
  // A partition's constraint is re-checked in its root's scan, on that partition's rows only.
  return c.partition === null ? bad : `tableoid = ${c.relationOid}::oid AND ${bad}`;
}

/** One scan per table: its row count and every NOT VALID constraint on it or on its partitions, in the same pass. */
export function planTableScans(context: PlanContext): PlannedCheck[] {
  const { catalog, options } = context;
  const byTable = new Map<string, UnvalidatedConstraint[]>();
  for (const c of catalog.unvalidated) byTable.set(`${c.schema}.${c.table}`, [...(byTable.get(`${c.schema}.${c.table}`) ?? []), c]);
  const scans = catalog.tables.flatMap((t): PlannedCheck[] => {
    const table = displayName(t.schema, t.table);
    const recheck = byTable.get(`${t.schema}.${t.table}`) ?? [];
    const name = `rows: ${table}`;
    if (context.blocked(t.denied, [name, ...recheck.map((c) => `NOT VALID ${c.name}`)].join(", "))) return [];
    const filters = recheck.map((c, i) => `count(*) FILTER (WHERE ${violation(c)}) AS v${i}`);
    return [
      {
        category: recheck.length > 0 ? "constraints" : "row counts",
        name,
        weight: Number(t.bytes),
        async run(client) {
          const { rows } = await client.query<Record<string, string>>(`SELECT ${["count(*) AS n", ...filters].join(", ")} FROM ${scanTarget(t)}`);
          const r = rows[0] ?? {};
          const count = Number(r.n ?? 0);
          const results: CheckOutcome[] = [{ ...countOutcome(table, count, options.referenceCounts, options.tolerancePercent), rowCount: { table, count } }];
          recheck.forEach((c, i) => {
            const bad = Number(r[`v${i}`] ?? 0);
            const check = `${c.kind === "check" ? "check" : "not null"} (NOT VALID): ${c.partition ?? table}.${c.name}`;
            const rule = c.kind === "check" ? `CHECK (${c.expression})` : `${c.expression} IS NOT NULL`;
            results.push(
              bad === 0
                ? outcome(check, "pass", `every row satisfies ${rule}`)
                : outcome(check, "fail", `${plural(bad, "row")} ${bad === 1 ? "violates" : "violate"} ${rule}; the constraint was added NOT VALID and never validated`),
            );
          });
          return results;
        },
      },
    ];
  });
  const reference = options.referenceCounts;
  if (!reference) return scans;
  const present = new Set(catalog.tables.map((t) => displayName(t.schema, t.table)));
  const missing = Object.keys(reference).filter((name) => !present.has(name.startsWith("public.") ? name.slice(7) : name));
  return [
    ...scans,
    ...missing.map((name): PlannedCheck => ({
      category: "row counts",
      name: `rows: ${name}`,
      run: async () => [outcome(`rows: ${name} vs reference`, "fail", `table missing here; the reference has ${plural(reference[name] ?? 0, "row")}`)],
    })),
  ];
}

function countOutcome(table: string, count: number, reference: Record<string, number> | undefined, tolerancePercent: number): CheckOutcome {
  const check = `rows: ${table}${reference ? " vs reference" : ""}`;
  if (!reference) return outcome(check, "info", plural(count, "row"));
  const expected = reference[table];
  if (expected === undefined) return outcome(check, "info", `${plural(count, "row")} (not in the reference)`);
  const allowed = (expected * tolerancePercent) / 100;
  const diff = count - expected;
  const detail = `${plural(count, "row")}, reference ${expected} (${diff >= 0 ? "+" : ""}${diff}; tolerance ${tolerancePercent}% = ${Math.floor(allowed)})`;
  return Math.abs(diff) <= allowed ? outcome(check, "pass", detail) : outcome(check, "fail", detail);
}

/** Duplicates per unique index, by the index's own key expressions and predicate. */
export function planUniquenessChecks(context: PlanContext): PlannedCheck[] {
  const { catalog } = context;
  const indexByOid = new Map(catalog.btreeIndexes.map((i) => [i.oid, i]));
  return catalog.uniqueIndexes.flatMap((u): PlannedCheck[] => {
    const table = displayName(u.schema, u.table);
    const name = `${u.primary ? "primary key" : "unique"}: ${table}(${u.keys.join(", ")})${u.predicate ? ` WHERE ${u.predicate}` : ""}`;
    if (context.blocked(u.denied, name)) return [];
    const keys = u.keys.map((k, i) => `${k} AS k${i}`);
    const where = [...(u.nullsNotDistinct ? [] : u.keys.map((k) => `(${k}) IS NOT NULL`)), ...(u.predicate ? [`(${u.predicate})`] : [])];
    const duplicates = `SELECT count(*)::text AS n, (array_agg(d::text))[1:3] AS samples
             FROM (SELECT ${keys.join(", ")} FROM ${scanTarget({ ...u, partitioned: false })}
                    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
                    GROUP BY ${u.keys.map((_, i) => i + 1).join(", ")} HAVING count(*) > 1) d`;
    const verified = indexByOid.get(u.oid);
    const amchecked = catalog.amcheck.installed && catalog.amcheck.executable && verified !== undefined && withHeapAllIndexed(context, verified);
    const label = `${u.index}${u.valid ? "" : ", INVALID"}`;
    return [
      {
        category: "uniqueness",
        name,
        weight: context.bytesOf(u.schema, u.table) + (indexByOid.get(u.oid)?.bytes ?? 0),
        after: amchecked ? indexCheckName(verified.index) : undefined,
        async run(client) {
          if (context.verifiedIndexes.has(u.oid)) {
            // amcheck just proved, in this snapshot, that the index is well ordered and holds every
            // heap tuple with its exact key (heapallindexed). Duplicates in the heap are then adjacent
            // entries of the index: one ordered pass over the index, no hashing or sorting of the heap.
            await client.query("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashagg = off; SET LOCAL enable_sort = off");
            if (await readsOnly(client, duplicates, u.index)) {
              const { rows } = await client.query<{ n: string }>(duplicates);
              // An index entry with a wrong key (which heapallindexed cannot see) can only add duplicates:
              // a hit is confirmed, and named, from the heap below.
              if (Number(rows[0]?.n ?? 0) === 0) return [outcome(name, "pass", `no duplicate keys (${u.index}, read in key order after amcheck verified it)`)];
            }
            await client.query("SET LOCAL enable_seqscan = on; SET LOCAL enable_sort = on");
          }
          // Scan the heap, not the index being checked: a damaged index can hide the duplicates it
          // should prevent. The keys are sorted, not hashed: a sort reads and writes memory in order and
          // grows as n log n, while a hash table of millions of keys misses the CPU caches on every row.
          await client.query("SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashagg = off");
          const { rows } = await client.query<{ n: string; samples: string[] | null }>(duplicates);
          const n = Number(rows[0]?.n ?? 0);
          const path = amchecked ? ", heap scan: amcheck did not verify the index" : ", heap scan";
          return n === 0
            ? [outcome(name, "pass", `no duplicate keys (${label}${path})`)]
            : [outcome(name, "fail", `${plural(n, "key")} ${n === 1 ? "appears" : "appear"} more than once${sampleText(rows[0]?.samples ?? null)} despite ${label}`)];
        },
      },
    ];
  });
}

/** Every scan of a relation in the plan of `sql`: its node type, alias and index. */
async function planScans(client: ClientBase, sql: string): Promise<{ type: unknown; alias: unknown; index: unknown }[]> {
  const { rows } = await client.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`);
  const scans: { type: unknown; alias: unknown; index: unknown }[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node["Relation Name"] !== undefined) scans.push({ type: node["Node Type"], alias: node["Alias"], index: node["Index Name"] });
    for (const child of (node["Plans"] as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = (rows[0]?.["QUERY PLAN"] as { Plan: Record<string, unknown> }[] | undefined)?.[0]?.Plan;
  if (plan) walk(plan);
  return scans;
}

/** True when the plan of `sql` reads its table only through `index` (an index-only or index scan), nothing else. */
async function readsOnly(client: ClientBase, sql: string, index: string): Promise<boolean> {
  const scans = await planScans(client, sql);
  return scans.length > 0 && scans.every((s) => s.index === index && (s.type === "Index Only Scan" || s.type === "Index Scan"));
}

const indexCheckName = (index: string) => `index: ${index}`;

/** Index entries per 8 kB page that amcheck sizes its Bloom filter by (MaxTIDsPerBTreePage / 3). */
const ENTRIES_PER_PAGE = 452;

/**
 * Whether amcheck runs with heapallindexed on this index: always with --heapallindexed; otherwise on
 * a unique index whose Bloom filter stays small (`orderedPassUpTo` entries, amcheck's estimate: the
 * larger of the table's rows and 452 per index page), whose uniqueness check then reads it in key
 * order. A larger filter misses the CPU caches on each of its probes: at 9 M rows a primary key's
 * heapallindexed pass took 37 times as long as at 0.9 M, where sorting the keys takes about 10 times.
 */
function withHeapAllIndexed(context: PlanContext, idx: { unique: boolean; bytes: number; tableRows: number }): boolean {
  if (context.options.heapAllIndexed) return true;
  const entries = Math.max(idx.tableRows, (idx.bytes / 8192) * ENTRIES_PER_PAGE);
  return idx.unique && entries <= (context.options.orderedPassUpTo ?? 2_000_000);
}

/** amcheck's bt_index_check on every leaf B-tree index (when installed and the role may execute it). */
export function planIndexChecks(context: PlanContext): PlannedCheck[] {
  const { catalog } = context;
  if (!catalog.amcheck.installed || !catalog.amcheck.executable) return [];
  const fn = catalog.amcheck.function;
  return catalog.btreeIndexes.map((idx): PlannedCheck => {
    const name = indexCheckName(idx.index);
    const heapAllIndexed = withHeapAllIndexed(context, idx);
    return {
      category: "indexes",
      name,
      weight: idx.bytes + (heapAllIndexed ? idx.tableBytes : 0),
      async run(client) {
        await client.query(`SELECT ${fn}($1::oid::regclass, $2)`, [idx.oid, heapAllIndexed]);
        if (heapAllIndexed) context.verifiedIndexes.add(idx.oid);
        return [outcome(name, "pass", `bt_index_check: consistent${heapAllIndexed ? ", every heap tuple indexed" : ""}`)];
      },
    };
  });
}

/** Every INVALID index, with what left it so and the statement that fixes it. */
export function planInvalidIndexChecks(context: PlanContext): PlannedCheck[] {
  return context.catalog.invalidIndexes.map((idx): PlannedCheck => {
    const name = `index: ${idx.index}`;
    const index = idx.ref;
    let detail: string;
    if (/_cc(new|old)\d*$/.test(idx.index)) {
      detail = `INVALID: left behind by an interrupted REINDEX CONCURRENTLY; fix: DROP INDEX CONCURRENTLY ${index}`;
    } else if (idx.partitioned) {
      detail = `INVALID: some partition of ${idx.table} lacks this index; fix: create the index on each partition and ALTER INDEX ${index} ATTACH PARTITION <partition's index>`;
    } else if (idx.unique) {
      detail = `INVALID: a CREATE UNIQUE INDEX CONCURRENTLY (or REINDEX) failed, typically on duplicate keys; queries do not use it and the rows before it failed were never checked against it; fix: remove the duplicates (see the unique row), then REINDEX INDEX CONCURRENTLY ${index}`;
    } else {
      detail = `INVALID: a CREATE INDEX CONCURRENTLY (or REINDEX) failed; queries do not use it; fix: REINDEX INDEX CONCURRENTLY ${index}`;
    }
    return { category: "indexes", name, weight: 0, run: async () => [outcome(name, "fail", `${detail} (${idx.definition})`)] };
  });
}

/** Every sequence a column takes values from, against that column's values. */
export function planSequenceChecks(context: PlanContext): PlannedCheck[] {
  return context.catalog.sequences.flatMap((s): PlannedCheck[] => {
    const table = displayName(s.schema, s.table);
    const increment = BigInt(s.incrementBy);
    const ascending = increment > 0n;
    const name = `sequence: ${s.sequence} ${ascending ? ">= max" : "<= min"}(${table}.${s.column})`;
    if (context.blocked(s.denied, name)) return [];
    return [
      {
        category: "sequences",
        name,
        weight: 0,
        async run(client) {
          // The sequence's own state: pg_sequences.last_value is NULL before the first nextval()
          // after a RESTART or setval(..., false), when the next value is last_value itself.
          const { rows } = await client.query<{ last: string; called: boolean; edge: string | null }>(
            `SELECT s.last_value::text AS last, s.is_called AS called,
                    (SELECT ${ascending ? "max" : "min"}(${escapeIdentifier(s.column)})::text FROM ${scanTarget(s)}) AS edge
               FROM ${s.sequence} s`,
          );
          const r = rows[0];
          if (!r) throw new Error(`sequence ${s.sequence} returned no row`);
          const next = r.called ? BigInt(r.last) + increment : BigInt(r.last);
          const limit = BigInt(ascending ? s.maxValue : s.minValue);
          const column = r.edge === null ? "(empty)" : r.edge;
          const state = `next value ${next}, column ${ascending ? "max" : "min"} ${column}`;
          if (!s.cycle && (ascending ? next > limit : next < limit)) {
            return [outcome(name, "fail", `${state}: the sequence is exhausted (${ascending ? "MAXVALUE" : "MINVALUE"} ${limit}); the next insert fails`)];
          }
          if (r.edge === null || (ascending ? BigInt(r.edge) < next : BigInt(r.edge) > next)) return [outcome(name, "pass", state)];
          return [
            outcome(
              name,
              "fail",
              `next value ${next} is not ${ascending ? "above the column's max" : "below the column's min"} ${r.edge}: the next insert collides; fix with SELECT setval(${escapeLiteral(s.sequence)}, ${r.edge})`,
            ),
          ];
        },
      },
    ];
  });
}
