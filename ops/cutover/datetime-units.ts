import type { TablePlan } from "./plan";
import { quoteSqlite, type SqliteDatabase } from "./sqlite";
import type { EpochUnit } from "./values";

/**
 * Integer DateTime values: Prisma's SQLite connector writes epoch milliseconds, a hand-written app
 * often epoch seconds (1714564800). Read as milliseconds, seconds land in January 1970 without any
 * error, so each column's unit is decided from its values before anything is written: the two
 * units' plausible ranges (1971-01-01 to 2200-01-01) do not overlap, so the largest magnitude
 * tells them apart. A column whose values are plausible in neither unit, or too close to the epoch
 * to tell, is refused with the flag that states its unit: `--datetime-unit Table.column=s|ms`.
 */

const PLAUSIBLE_FROM_SECONDS = Date.UTC(1971, 0, 1) / 1000;
const PLAUSIBLE_TO_SECONDS = Date.UTC(2200, 0, 1) / 1000;
const SCALE: Record<EpochUnit, number> = { s: 1, ms: 1000 };

/** `Table.column=s|ms` flags as a map keyed by `Table.column`; throws a usage error naming the bad one. */
export function parseDatetimeUnits(specs: readonly string[]): Map<string, EpochUnit> {
  const units = new Map<string, EpochUnit>();
  for (const spec of specs) {
    const match = /^(.+)\.([^.=]+)=(s|ms)$/.exec(spec.trim());
    if (!match) throw new Error(`--datetime-unit ${spec}: expected Table.column=s or Table.column=ms (e.g. --datetime-unit Order.createdAt=s)`);
    units.set(`${match[1]}.${match[2]}`, match[3] as EpochUnit);
  }
  return units;
}

/** 0001-01-01 and 9999-12-31T23:59:59Z in epoch seconds: the years PostgreSQL's ISO output prints with four digits. */
const FIRST_SECOND = -62135596800;
const LAST_SECOND = 253402300799;

/**
 * The smallest and largest INTEGER value of each column (values of other types are ignored), one
 * scan per column: a WHERE on typeof() is about twice as fast as CASE inside three aggregates.
 */
function integerRanges(db: SqliteDatabase, table: string, columns: readonly string[]): Map<string, { min: number; max: number; count: number }> {
  const ranges = new Map<string, { min: number; max: number; count: number }>();
  for (const c of columns) {
    const row = (db.all(`SELECT min(${quoteSqlite(c)}) AS min, max(${quoteSqlite(c)}) AS max, count(*) AS n FROM ${quoteSqlite(table)} WHERE typeof(${quoteSqlite(c)}) = 'integer'`) as Record<string, unknown>[])[0] ?? {};
    const count = Number(row.n ?? 0);
    if (count > 0) ranges.set(c, { min: Number(row.min), max: Number(row.max), count });
  }
  return ranges;
}

/** A day as YYYY-MM-DD, or which side of the calendar PostgreSQL prints it falls off. */
function isoDate(seconds: number): string {
  if (seconds > LAST_SECOND) return "after year 9999";
  if (seconds < FIRST_SECOND) return "before year 1";
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** The unit a column's integer range is plausible in, or why none is. */
export function decideEpochUnit(range: { min: number; max: number }): { unit: EpochUnit } | { problem: string } {
  const plausible = (unit: EpochUnit) => range.max / SCALE[unit] >= PLAUSIBLE_FROM_SECONDS && range.max / SCALE[unit] < PLAUSIBLE_TO_SECONDS;
  if (plausible("ms")) return { unit: "ms" };
  if (plausible("s")) return { unit: "s" };
  const readings = (["ms", "s"] as const).map((unit) => `as ${unit === "ms" ? "milliseconds" : "seconds"} ${isoDate(range.min / SCALE[unit])} to ${isoDate(range.max / SCALE[unit])}`);
  return { problem: `integer values ${range.min} to ${range.max} are plausible dates in neither unit (${readings.join(", ")})` };
}

/**
 * Decides the epoch unit of every timestamp/date column that holds integers (one scan per column),
 * writes it into the column's type and returns the plan lines and the problems (refusals).
 * @throws Error (bad usage, exit 2) when `stated` names a column that is not a timestamp or date
 * column of the plan, listing those there are
 */
export function resolveDatetimeUnits(db: SqliteDatabase, tables: readonly TablePlan[], stated: ReadonlyMap<string, EpochUnit>): { notes: Map<string, string>; problems: string[] } {
  const isDated = (c: TablePlan["columns"][number]) => c.type.kind === "timestamp" || c.type.kind === "timestamptz" || c.type.kind === "date";
  const known = tables.flatMap((t) => t.columns.filter(isDated).map((c) => `${t.source}.${c.source}`));
  // A flag naming no such column is bad usage, refused before any column is scanned.
  const unknown = [...stated.keys()].find((key) => !known.includes(key));
  if (unknown !== undefined) {
    const exist = known.length === 0 ? "the plan has none" : `the plan's are ${known.slice(0, 20).join(", ")}${known.length > 20 ? ` and ${known.length - 20} more` : ""}`;
    throw new Error(`--datetime-unit ${unknown}: no such timestamp or date column in the plan (names are the SQLite table and column); ${exist}`);
  }
  const notes = new Map<string, string>();
  const problems: string[] = [];
  for (const table of tables) {
    const dated = table.columns.filter(isDated);
    if (dated.length === 0) continue;
    const ranges = integerRanges(db, table.source, dated.map((c) => c.source));
    for (const column of dated) {
      const key = `${table.source}.${column.source}`;
      const given = stated.get(key);
      const range = ranges.get(column.source);
      if (given) {
        column.type.epochUnit = given;
        notes.set(key, `integers are epoch ${given === "s" ? "seconds" : "milliseconds"} (--datetime-unit)`);
        continue;
      }
      if (!range) continue;
      const decided = decideEpochUnit(range);
      if ("problem" in decided) {
        problems.push(`column ${key}: ${decided.problem}. State the unit with --datetime-unit ${key}=s or --datetime-unit ${key}=ms`);
        continue;
      }
      column.type.epochUnit = decided.unit;
      notes.set(
        key,
        `${range.count} integers read as epoch ${decided.unit === "s" ? "seconds" : "milliseconds"} (from the values: ${isoDate(range.min / SCALE[decided.unit])} to ${isoDate(range.max / SCALE[decided.unit])}; --datetime-unit ${key}=... overrides)`,
      );
    }
  }
  return { notes, problems };
}
