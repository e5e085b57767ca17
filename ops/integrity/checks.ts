import type { ClientBase } from "pg";
import type { CheckResult, CheckStatus } from "../lib/report";
import type { Catalog } from "./catalog";
import { countRows, type DomainCheck } from "./domain";
import { planMigrations } from "./migrations";
import { privilegeFindings, type Blocked } from "./privileges";
import { planForeignKeyChecks, planIndexChecks, planInvalidIndexChecks, planSequenceChecks, planTableScans, planUniquenessChecks } from "./relations";
import { plural } from "../lib/report";
import { splitTableName } from "./sql";

/**
 * The integrity checks: each is planned from the catalog (one consistent snapshot) and runs as one
 * set-based statement on a pooled read-only connection. Nothing here writes. One planner per
 * category; what the role may not read is not planned but reported, once per missing privilege.
 */

export { readCatalog, type Catalog } from "./catalog";
export type { DomainCheck } from "./domain";

export type CheckCategory =
  | "connectivity"
  | "privileges"
  | "schema"
  | "foreign keys"
  | "constraints"
  | "uniqueness"
  | "indexes"
  | "sequences"
  | "row counts"
  | "domain checks";

/** Every category, in the order progress and summaries show them. */
export const CATEGORIES: readonly CheckCategory[] = [
  "connectivity",
  "privileges",
  "schema",
  "foreign keys",
  "constraints",
  "uniqueness",
  "indexes",
  "sequences",
  "row counts",
  "domain checks",
];

/** A check ready to run: `run` receives a client inside a READ ONLY transaction. */
export interface PlannedCheck {
  category: CheckCategory;
  name: string;
  /** Bytes the check reads, so the runner can start the largest first (the last one to finish sets the wall time). */
  weight?: number;
  /** The name of a check whose verdict this one reads (amcheck of the index a uniqueness check relies on): run after it. */
  after?: string;
  run(client: ClientBase): Promise<CheckOutcome[]>;
}

/** One or more report rows (a table scan reports its count and each re-checked constraint). */
export type CheckOutcome = Omit<CheckResult, "durationMs"> & {
  /** Set by the row-count rows: the table (display name) and its count in the snapshot. */
  rowCount?: { table: string; count: number };
  /** Set by "not checked" rows: the privilege missing and the checks it stopped, merged into one finding per privilege. */
  blocked?: Blocked;
};

export interface PlanOptions {
  expectedTables: readonly string[];
  /** The migrations table to check; undefined: every known migration tool's table present. */
  migrationsTable: string | undefined;
  domainChecks: readonly DomainCheck[];
  /** Reference row counts keyed by table display name; undefined when no reference was given. */
  referenceCounts: Record<string, number> | undefined;
  tolerancePercent: number;
  /** Also verify every heap tuple has its index entry (bt_index_check's heapallindexed; reads each table again). */
  heapAllIndexed: boolean;
  /**
   * Unique indexes of at most this many entries (amcheck's own estimate) are verified with
   * heapallindexed, then read in key order for duplicates; larger ones are checked by sorting the
   * table's keys (amcheck's Bloom filter outgrows the CPU caches). @default 2_000_000 (a 4 MB filter)
   */
  orderedPassUpTo?: number;
}

/** What every category planner shares. */
export interface PlanContext {
  catalog: Catalog;
  options: PlanOptions;
  bytesOf(schema: string, table: string): number;
  /** True (and the check is recorded against each privilege) when `denied` is not empty: do not plan it. */
  blocked(denied: readonly string[], check: string): boolean;
  /** Filled by the amcheck index checks, read by the uniqueness checks (which the runner starts after them). */
  verifiedIndexes: Set<number>;
}

export const outcome = (check: string, status: CheckStatus, detail: string): CheckOutcome => ({ check, status, detail });

export function sampleText(samples: readonly string[] | null): string {
  return samples && samples.length > 0 ? ` (e.g. ${samples.join(", ")})` : "";
}

/** A check whose verdict is known when planning. */
const fixed = (category: CheckCategory, name: string, status: CheckStatus, detail: string): PlannedCheck => ({
  category,
  name,
  weight: 0,
  run: async () => [outcome(name, status, detail)],
});

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

/** Builds every check the catalog calls for, then one finding per privilege the role lacks. */
export function planChecks(catalog: Catalog, options: PlanOptions): PlannedCheck[] {
  const tableBytes = new Map(catalog.tables.map((t) => [`${t.schema}.${t.table}`, Number(t.bytes)]));
  const skipped = new Map<string, string[]>();
  const context: PlanContext = {
    catalog,
    options,
    bytesOf: (schema, table) => tableBytes.get(`${schema}.${table}`) ?? 0,
    blocked(denied, check) {
      for (const privilege of denied) skipped.set(privilege, [...(skipped.get(privilege) ?? []), check]);
      return denied.length > 0;
    },
    verifiedIndexes: new Set<number>(),
  };
  const checks = [
    ...planMigrationChecks(context),
    ...planForeignKeyChecks(context),
    ...planTableScans(context),
    ...planUniquenessChecks(context),
    ...planIndexChecks(context),
    ...planInvalidIndexChecks(context),
    ...planSequenceChecks(context),
    ...planDomainChecks(context),
  ];
  return [...checks, ...privilegeChecks(skipped, catalog.role)];
}

/** One "not checked" outcome per missing privilege; the runner merges them with those met while running. */
function privilegeChecks(skipped: ReadonlyMap<string, string[]>, role: string): PlannedCheck[] {
  return [...skipped].map(([privilege, checks]): PlannedCheck => {
    const blocked = { privilege, checks };
    const [finding] = privilegeFindings([blocked], role);
    const name = `privilege: ${privilege}`;
    return { category: "privileges", name, weight: 0, run: async () => [{ ...(finding ?? outcome(name, "skip", "not checked")), blocked }] };
  });
}

function planMigrationChecks(context: PlanContext): PlannedCheck[] {
  const asked = context.options.migrationsTable === undefined ? undefined : splitTableName(context.options.migrationsTable);
  return planMigrations(context.catalog.migrationTables, asked).flatMap((plan): PlannedCheck[] => {
    if (plan.verdict) return [fixed("schema", plan.name, plan.verdict.status, plan.verdict.detail)];
    const read = plan.run;
    if (!read || context.blocked(plan.denied, plan.name)) return [];
    return [{ category: "schema", name: plan.name, weight: 0, run: async (client) => [{ check: plan.name, ...(await read(client)) }] }];
  });
}

function planDomainChecks(context: PlanContext): PlannedCheck[] {
  // Arbitrary SQL: assume it reads everything, so it starts early.
  const everything = context.catalog.tables.reduce((sum, t) => sum + Number(t.bytes), 0);
  return context.options.domainChecks.map((d): PlannedCheck => {
    const name = `domain: ${d.name}`;
    return {
      category: "domain checks",
      name,
      weight: everything,
      async run(client) {
        const { count, samples } = await countRows(client, d.sql);
        return count === 0
          ? [outcome(name, "pass", "no rows returned")]
          : [outcome(name, "fail", `${plural(count, "row")} returned, none expected${sampleText(samples)}`)];
      },
    };
  });
}
