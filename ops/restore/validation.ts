import { Client, type ClientConfig } from "pg";
import { validateIntegrity, type DomainCheck } from "../integrity";
import { packagedRdsCa, rdsSsl } from "../lib/rdsTls";
import { plural, type CheckResult } from "../lib/report";
import { connectClient } from "../lib/postgres";

/**
 * The validation half of the drill (RUNBOOK.md, Backup and restore drill, steps 5-6): readiness and
 * integrity checks against a database, run where the database is reachable. In AWS that is the
 * validation function inside the VPC (ops/restore/lambda.ts); locally it runs in-process. The
 * orchestrator, which only calls AWS APIs, never connects to the database itself.
 *
 * Nothing here logs a request: it carries a one-time password.
 */

/** Where the database is; the password is one-time (a drill) or read from Secrets Manager (a live check). */
export interface ValidationTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Secret. A drill's one-time master password. */
  password?: string;
  /** Secrets Manager secret holding `{ "username", "password" }` (an RDS-managed master secret). */
  passwordSecretArn?: string;
  /** "rds": TLS verified against the RDS CA bundle; "disable": no TLS (a local server only). */
  tls: "rds" | "disable";
}

/** The checks to run; plain data, so it travels in a Lambda payload. */
export interface ValidationChecks {
  expectedTables: string[];
  /** @default 0 */
  tolerancePercent?: number;
  /** Row counts recorded earlier, keyed by table. */
  referenceCounts?: Record<string, number>;
  /** A reference database to compare counts with (local drills compare with their source). */
  referenceTarget?: ValidationTarget;
  domainChecks?: DomainCheck[];
  /** @default 4 */
  concurrency?: number;
  /** @default 300000, and never past the request's time budget */
  statementTimeoutMs?: number;
  /** @default "_prisma_migrations" */
  migrationsTable?: string;
}

/** One validation. `restored`: readiness, amcheck installed, integrity. `live`: integrity only, strictly read-only. */
export interface ValidationRequest {
  kind: "validate";
  mode: "restored" | "live";
  target: ValidationTarget;
  checks: ValidationChecks;
  /** Everything, retries included, finishes within this many milliseconds. @default 600000 */
  budgetMs?: number;
  /** Readiness keeps retrying the first connection this long. @default 300000 */
  readinessTimeoutMs?: number;
}

export interface ValidationResult {
  passed: boolean;
  /** The database has no migrations applied yet (a new stack): nothing to drill, not a failure. */
  nothingToDrill: boolean;
  /** "36 checks, 0 failed, 0 warnings", "nothing to drill yet", or what stopped the checks. */
  summary: string;
  results: CheckResult[];
  rowCounts: Record<string, number>;
  notes: string[];
  durationMs: number;
}

const NOTHING_TO_DRILL = "nothing to drill yet";

const DEFAULT_BUDGET_MS = 600_000;

/** A pg config for a target; credentials resolved by the caller. */
function clientConfig(target: ValidationTarget, password: string | undefined, user = target.user): ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user,
    password,
    // Verified TLS: the RDS CA bundle, host name checked; never rejectUnauthorized: false.
    ...(target.tls === "rds" ? { ssl: rdsSsl(packagedRdsCa()) } : {}),
  };
}

/** Reads the credentials of a target: its one-time password, or its Secrets Manager secret. */
async function resolveCredentials(target: ValidationTarget, signal: AbortSignal): Promise<{ user: string; password: string | undefined }> {
  if (!target.passwordSecretArn) return { user: target.user, password: target.password };
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: target.passwordSecretArn }), { abortSignal: signal });
  const secret = JSON.parse(out.SecretString ?? "{}") as { username?: string; password?: string };
  if (!secret.password) throw new Error(`the secret ${target.passwordSecretArn} holds no password`);
  return { user: secret.username ?? target.user, password: secret.password };
}

/** Rejects when `signal` aborts: the time budget ran out (`budget` aborted), or the caller interrupted. */
function aborted(signal: AbortSignal, budget: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () =>
      reject(new Error(budget.aborted ? `validation did not finish within its time budget (${budget.reason instanceof Error ? budget.reason.message : "aborted"})` : "validation interrupted"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

async function connectWithRetry(config: ClientConfig, timeoutMs: number, signal: AbortSignal): Promise<Client> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw new Error(`readiness: stopped before connecting to ${config.host}:${config.port}/${config.database}`);
    try {
      return await connectClient({ connectionTimeoutMillis: 10_000, ...config, application_name: "runbook-drill-readiness" });
    } catch (error) {
      const message = (error as Error).message;
      // A wrong password will not become right by waiting.
      if (/password authentication failed/.test(message) || Date.now() >= deadline || signal.aborted) {
        throw new Error(`readiness: cannot connect to ${config.host}:${config.port}/${config.database} after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${message}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * attempt)));
    }
  }
}

/**
 * "Run app readiness checks against restored DB": connect, SELECT 1, migrations applied. Returns
 * the results and whether any migration was ever applied (a new stack has none: nothing to drill).
 */
async function readiness(client: Client, migrationsTable: string): Promise<{ results: CheckResult[]; migrated: boolean }> {
  const results: CheckResult[] = [{ check: "readiness: connect", status: "pass", detail: "connected" }];
  try {
    await client.query("BEGIN READ ONLY");
    const one = await client.query<{ one: number }>("SELECT 1 AS one");
    results.push({ check: "readiness: SELECT 1", status: one.rows[0]?.one === 1 ? "pass" : "fail", detail: `returned ${one.rows[0]?.one}` });
    const [schema, table] = migrationsTable.includes(".") ? migrationsTable.split(".") : ["public", migrationsTable];
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass(format('%I.%I', $1::text, $2::text))::text AS t", [schema, table]);
    const regclass = exists.rows[0]?.t;
    if (!regclass) {
      results.push({ check: "readiness: migrations applied", status: "info", detail: `${migrationsTable} not found: no migration was ever applied` });
      return { results, migrated: false };
    }
    const { rows } = await client.query<{ applied: string; pending: string }>(
      `SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL)::text AS applied,
              count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL)::text AS pending
         FROM ${regclass}`,
    );
    const applied = Number(rows[0]?.applied ?? 0);
    const pending = Number(rows[0]?.pending ?? 0);
    if (applied === 0 && pending === 0) {
      results.push({ check: "readiness: migrations applied", status: "info", detail: `${migrationsTable} is empty: no migration was ever applied` });
      return { results, migrated: false };
    }
    results.push({ check: "readiness: migrations applied", status: applied > 0 && pending === 0 ? "pass" : "fail", detail: `${applied} applied, ${pending} unfinished` });
    return { results, migrated: true };
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
  }
}

/**
 * The drill owns the temporary database, so it installs amcheck there before the integrity checks
 * (without it index structure is only reported as not verified). Never run on a live database.
 */
async function enableAmcheck(client: Client): Promise<string> {
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS amcheck");
    return "amcheck enabled in the temporary database: index structure verified with bt_index_check";
  } catch (error) {
    return `amcheck could not be enabled in the temporary database (${(error as Error).message}); index structure not verified`;
  }
}

function summarize(results: readonly CheckResult[]): string {
  const failed = results.filter((r) => r.status === "fail").length;
  const warnings = results.filter((r) => r.status === "warn").length;
  return `${plural(results.length, "check")}, ${failed} failed, ${plural(warnings, "warning")}`;
}

/**
 * Validates one database and returns the result; never throws for a check that fails, an
 * unreachable database or a timeout: those are results with `passed: false`.
 * @param interrupt the caller's abort (a drill interrupted, about to delete the database): like the
 * time budget running out, it stops the readiness retries and keeps further checks from starting,
 * so no new connection races the deletion
 */
export async function validate(request: ValidationRequest, interrupt?: AbortSignal): Promise<ValidationResult> {
  const started = performance.now();
  const budgetMs = request.budgetMs ?? DEFAULT_BUDGET_MS;
  const budget = AbortSignal.timeout(budgetMs);
  const signal = interrupt ? AbortSignal.any([budget, interrupt]) : budget;
  const notes: string[] = [];
  const checks = request.checks;
  const migrationsTable = checks.migrationsTable ?? "_prisma_migrations";
  const fail = (message: string, results: CheckResult[] = []): ValidationResult => ({
    passed: false,
    nothingToDrill: false,
    summary: message,
    results: [...results, { check: "validation", status: "fail", detail: message }],
    rowCounts: {},
    notes: [...notes, message],
    durationMs: performance.now() - started,
  });
  let client: Client | undefined;
  try {
    const run = async (): Promise<ValidationResult> => {
      const credentials = await resolveCredentials(request.target, signal);
      const config = clientConfig(request.target, credentials.password, credentials.user);
      let readinessResults: CheckResult[] = [];
      if (request.mode === "restored") {
        client = await connectWithRetry(config, Math.min(request.readinessTimeoutMs ?? 300_000, budgetMs), signal);
        const ready = await readiness(client, migrationsTable);
        readinessResults = ready.results;
        if (!ready.migrated) {
          notes.push(`${NOTHING_TO_DRILL}: ${migrationsTable} records no applied migration (a new stack); integrity checks skipped`);
          return { passed: true, nothingToDrill: true, summary: NOTHING_TO_DRILL, results: readinessResults, rowCounts: {}, notes, durationMs: performance.now() - started };
        }
        notes.push(await enableAmcheck(client));
        await client.end();
        client = undefined;
      }
      let reference: { counts: Record<string, number> } | { connection: ClientConfig } | undefined;
      if (checks.referenceCounts) reference = { counts: checks.referenceCounts };
      else if (checks.referenceTarget) {
        const ref = await resolveCredentials(checks.referenceTarget, signal);
        reference = { connection: clientConfig(checks.referenceTarget, ref.password, ref.user) };
      }
      // No statement outlives the budget: the checks stop on their own (and say which) a little
      // before it runs out, so the report names the slow check rather than only the budget.
      const left = budgetMs - (performance.now() - started);
      const remaining = Math.max(100, Math.floor(left - Math.min(5_000, left * 0.2)));
      const report = await validateIntegrity({
        connection: config,
        expectedTables: checks.expectedTables,
        migrationsTable,
        tolerancePercent: checks.tolerancePercent ?? 0,
        reference,
        domainChecks: checks.domainChecks ?? [],
        concurrency: checks.concurrency,
        statementTimeoutMs: Math.min(checks.statementTimeoutMs ?? 300_000, remaining),
        signal,
      });
      const results = [...readinessResults, ...report.results];
      const passed = results.every((r) => r.status !== "fail");
      return { passed, nothingToDrill: false, summary: summarize(results), results, rowCounts: report.rowCounts, notes, durationMs: performance.now() - started };
    };
    return await Promise.race([run(), aborted(signal, budget)]);
  } catch (error) {
    return fail((error as Error).message);
  } finally {
    await (client as Client | undefined)?.end().catch(() => undefined);
  }
}
