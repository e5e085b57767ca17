import { parse } from "yaml";
import { z } from "zod";
import { readInputFile } from "../lib/inputFile";
import { normalizeDecimal } from "./numbers";

/**
 * "Validate counts/domain checks from migration output": application-specific checks, kept in a
 * YAML or JSON file so the cutover team can add them without code. Every query runs inside the
 * migration's transaction, before COMMIT. A file is a list (or `{ checks: [...] }`) of either:
 *  - `{ name, sql }`: the format `npm run ops:db:validate-integrity --domain-checks` reads, so the
 *    weekly drill's file works here too: the query returns violating rows and must return none;
 *  - `{ name, target, source | expect }`: `target` returns one value, compared with the same
 *    question asked of the SQLite snapshot (`source`) or with a literal (`expect`).
 *
 * @example
 * - name: admins carried over
 *   source: SELECT count(*) FROM "User" WHERE "isAdmin" = 1
 *   target: SELECT count(*) FROM "User" WHERE "isAdmin"
 * - name: no negative prices
 *   sql: SELECT id FROM "Post" WHERE price < 0
 */

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const comparisonCheck = z
  .strictObject({
    name: z.string().min(1),
    target: z.string().min(1),
    source: z.string().min(1).optional(),
    expect: scalar.optional(),
  })
  .refine((c) => (c.source === undefined) !== (c.expect === undefined), { message: "give exactly one of `source` (a SQLite query) or `expect` (a value)" });

const violationsCheck = z.strictObject({ name: z.string().min(1), sql: z.string().min(1) });

const checkList = z.array(z.union([violationsCheck, comparisonCheck])).min(1);
const domainChecksFileSchema = z.union([checkList, z.strictObject({ checks: checkList }).transform((f) => f.checks)]);

export type DomainCheck = z.infer<typeof checkList>[number];

const CHECKS_EXAMPLE = "- name: users carried over\n  source: SELECT count(*) FROM \"User\"\n  target: SELECT count(*) FROM \"User\"";

export function parseDomainChecks(text: string, file: string): DomainCheck[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new Error(`--domain-checks ${file}: not YAML/JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = domainChecksFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`--domain-checks ${file}: ${issues}. Expected a list of { name, sql } (query returns violating rows) or { name, target, source | expect }`);
  }
  return parsed.data;
}

/**
 * Reads and parses a domain-checks file (YAML or JSON), through the shared reader of flag-named files.
 * @throws CliError (exit 2) naming `--domain-checks`, the file and the fix: unreadable (ops/lib/inputFile), not YAML, not the shape
 */
export function loadDomainChecks(file: string): DomainCheck[] {
  return parseDomainChecks(readInputFile("--domain-checks", file, CHECKS_EXAMPLE), file);
}

/**
 * One query result as comparable text: numbers compare by decimal value (SQLite's 3 equals
 * PostgreSQL's "3" and "3.00"), booleans as true/false, blobs as hex.
 */
export function normalizeScalar(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return String(value);
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  const text = typeof value === "number" || typeof value === "bigint" ? String(value) : String(value).trim();
  try {
    return normalizeDecimal(text, "trim");
  } catch {
    return text;
  }
}
