import { escapeIdentifier, type ClientBase } from "pg";

/** Small SQL helpers shared by the integrity checks; every identifier reaches SQL through pg's escapeIdentifier. */

/** pg's escapeIdentifier, under the name ops/restore imports. */
export const quoteIdent = escapeIdentifier;

/** `schema.table` quoted, from the catalog's raw names. */
export function qualified(schema: string, table: string): string {
  return `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
}

/**
 * What a check reads from a table: `ONLY` a plain table (rows of inheritance children are the
 * children's own, counted and checked there), the whole tree of a partitioned table.
 */
export function scanTarget(relation: { schema: string; table: string; partitioned: boolean }): string {
  return `${relation.partitioned ? "" : "ONLY "}${qualified(relation.schema, relation.table)}`;
}

/** How a table is named in reports: `users` for the public schema, `audit.events` elsewhere. */
export function displayName(schema: string, table: string): string {
  return schema === "public" ? table : `${schema}.${table}`;
}

/** `users` → public.users, `audit.events` → audit.events (what --expected-tables and count files use). */
export function splitTableName(name: string): { schema: string; table: string } {
  const dot = name.indexOf(".");
  return dot < 0 ? { schema: "public", table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/**
 * Runs `work` with planner settings changed (`{ enable_hashjoin: "off" }`), then puts back the
 * values they had, so a caller's transaction (the cutover's) continues as it was. The change is
 * transaction-local (`set_config(..., true)`); when `work` throws, nothing is put back (a failed
 * statement has aborted the transaction, which ends the change anyway).
 */
export async function withSettings<T>(client: ClientBase, settings: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  const names = Object.keys(settings);
  const apply = (values: readonly string[]) => client.query("SELECT set_config(n, v, true) FROM unnest($1::text[], $2::text[]) AS u(n, v)", [names, values]);
  const { rows } = await client.query<{ v: string }>("SELECT current_setting(n) AS v FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i", [names]);
  await apply(Object.values(settings));
  const result = await work();
  await apply(rows.map((r) => r.v));
  return result;
}
