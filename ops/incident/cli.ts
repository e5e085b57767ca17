import { Command, Option } from "commander";
import { printReport } from "../lib/report";
import { baseUrlOption, timeoutOption } from "./options";
import { runIncidentCheck } from "./index";

/**
 * npm run ops:incident-check -- --base-url=https://api.example.com [--database-url=...]
 *   [--redis-url=...] [--bucket=...] [--s3-endpoint=...] [--json]
 * Exits 1 when any check fails, 2 on a usage error.
 */

const program = new Command("ops:incident-check")
  .description("The runbook's incident quick steps: health endpoints, X-Request-Id, database, Redis, object storage")
  .requiredOption("--base-url <url>", "the API's base URL, such as https://api.example.com", baseUrlOption)
  .addOption(new Option("--database-url <url>", "PostgreSQL connection string (prefer the env var: it keeps the password out of shell history)").env("DATABASE_URL"))
  .addOption(new Option("--redis-url <url>", "redis:// or rediss:// URL with the AUTH token").env("REDIS_URL"))
  .option("--bucket <name>", "object storage bucket for the canary write/read/delete")
  .option("--s3-endpoint <url>", "S3-compatible endpoint (path-style), unset for AWS S3")
  .addOption(new Option("--region <region>", "AWS region of the bucket").env("AWS_REGION").default("us-east-1"))
  .option("--timeout-ms <ms>", "deadline of every network call", timeoutOption, 5000)
  .option("--json", "print the results as JSON instead of a table")
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ baseUrl: string; databaseUrl?: string; redisUrl?: string; bucket?: string; s3Endpoint?: string; region: string; timeoutMs: number; json?: boolean }>();
  const results = await runIncidentCheck(o);
  const exitCode = await printReport(results, { command: "incident-check", title: `Incident check: ${o.baseUrl}`, json: o.json ?? false, target: { baseUrl: o.baseUrl } });
  // Exit once the report is out: idle keep-alive sockets would otherwise hold the process open.
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  process.stderr.write(`ops:incident-check: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
