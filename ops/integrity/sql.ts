/** Small SQL helpers shared by the integrity checks; every identifier reaches SQL through quoteIdent. */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` quoted, from the catalog's raw names. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
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

export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 || n === 1n ? one : many}`;
}
