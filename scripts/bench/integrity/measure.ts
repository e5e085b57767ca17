import { validateIntegrity } from "../../../ops/integrity";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES } from "../../../ops/restore/sample";

/**
 * One validation in its own process, so its peak RSS is the validator's alone:
 * `tsx scripts/bench/integrity/measure.ts <database-url>` prints `{ "ms", "maxRssMb", "exitCode" }`.
 */

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error("usage: measure.ts <database-url>");
  const started = performance.now();
  const report = await validateIntegrity({ connection: url, expectedTables: [...SAMPLE_TABLES], domainChecks: SAMPLE_DOMAIN_CHECKS, statementTimeoutMs: 3_600_000 });
  const ms = performance.now() - started;
  // resourceUsage().maxRSS is in kilobytes.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const slowest = [...report.results].sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0)).slice(0, 8).map((r) => `${r.check} ${Math.round(r.durationMs ?? 0)}`);
  process.stdout.write(`${JSON.stringify({ ms, maxRssMb, exitCode: report.exitCode, summary: report.summary, slowest })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
