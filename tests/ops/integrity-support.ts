import { Client } from "pg";
import { expect } from "vitest";
import { validateIntegrity, type IntegrityOptions, type IntegrityReport } from "../../ops/integrity";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import { startPostgres, type PostgresServer } from "../support/postgres";

/**
 * What the integrity tests share: one embedded PostgreSQL per test file with the seeded sample
 * database (`seeded`, with amcheck; `seeded_plain`, without), fresh copies of it per test, and a
 * validation that proves it wrote nothing.
 */

/** Runs statements on a fresh connection (one simple query: several statements run as one transaction). */
export async function sql(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Every table's content and every sequence, hashed: the validation must leave them exactly as they were. */
async function contentHash(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ t: string }>(
      "SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    );
    const parts: string[] = [];
    for (const { t } of tables.rows) {
      const { rows } = await client.query<{ h: string }>(`SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM ${t} x`);
      parts.push(`${t}:${rows[0]?.h}`);
    }
    const seqs = await client.query<{ h: string }>(
      "SELECT string_agg(s.relname || '=' || coalesce(pg_sequence_last_value(s.oid)::text, '-'), ',' ORDER BY s.relname) AS h FROM pg_class s WHERE s.relkind = 'S'",
    );
    const indexes = await client.query<{ h: string }>(
      "SELECT string_agg(indexrelid::regclass::text || ':' || indisvalid, ',' ORDER BY 1) AS h FROM pg_index",
    );
    return `${parts.join(";")};${seqs.rows[0]?.h};${indexes.rows[0]?.h}`;
  } finally {
    await client.end();
  }
}

export const failures = (report: IntegrityReport) => report.results.filter((r) => r.status === "fail").map((r) => r.check);
export const skipped = (report: IntegrityReport) => report.results.filter((r) => r.status === "skip").map((r) => r.check);
export const row = (report: IntegrityReport, check: string) => {
  const found = report.results.find((r) => r.check === check);
  if (!found) throw new Error(`no result "${check}" in: ${report.results.map((r) => r.check).join(", ")}`);
  return found;
};

export interface IntegrityFixture {
  pg: PostgresServer;
  /** A fresh copy of the seeded sample database (with amcheck unless told otherwise). */
  copy(template?: string): Promise<string>;
  /** Validates `options.connection` (default: `url`; sample tables and domain checks unless overridden) and proves `url` was not written to. */
  validate(url: string, options?: Partial<IntegrityOptions>): Promise<IntegrityReport>;
  stop(): Promise<void>;
}

export async function startIntegrityFixture(): Promise<IntegrityFixture> {
  const pg = await startPostgres();
  const seeded = await pg.createDatabase("seeded");
  await seedSampleDatabase(seeded, 300);
  await sql(seeded, "CREATE EXTENSION amcheck");
  await sql(pg.url(), "CREATE DATABASE seeded_plain TEMPLATE seeded");
  await sql(pg.url("seeded_plain"), "DROP EXTENSION amcheck");
  let copies = 0;
  return {
    pg,
    async copy(template = "seeded") {
      const name = `t${++copies}`;
      await sql(pg.url(), `CREATE DATABASE ${name} TEMPLATE ${template}`);
      return pg.url(name);
    },
    async validate(url, options = {}) {
      const before = await contentHash(url);
      const report = await validateIntegrity({
        connection: url,
        expectedTables: [...SAMPLE_TABLES],
        domainChecks: SAMPLE_DOMAIN_CHECKS,
        concurrency: 3,
        statementTimeoutMs: 20_000,
        ...options,
      });
      expect(await contentHash(url)).toBe(before);
      return report;
    },
    stop: () => pg.stop(),
  };
}
