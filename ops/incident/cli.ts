import { Option } from "commander";
import { connectionUrl, createCommand, POSTGRES_SCHEMES, REDIS_SCHEMES, required, runAsProcess } from "../lib/cli";
import { printReport } from "../lib/report";
import { baseUrlOption, timeoutOption } from "./options";
import { runIncidentCheck, type IncidentCheckOptions } from "./index";

/**
 * npm run ops:incident-check -- --base-url=https://api.example.com [--database-url=...]
 *   [--redis-url=...] [--bucket=...] [--s3-endpoint=...] [--json]
 * Exits 1 when any check fails, 2 on a usage error.
 */

type IncidentCliOptions = Omit<IncidentCheckOptions, "baseUrl"> & { baseUrl?: string; json?: boolean };

const program = createCommand("ops:incident-check", "The runbook's incident quick steps: health endpoints, X-Request-Id, database, Redis, object storage")
  .option("--base-url <url>", "(required) the API's base URL, such as https://api.example.com", baseUrlOption)
  .addOption(new Option("--database-url <url>", "PostgreSQL connection string (prefer the env var: it keeps the password out of shell history)").env("DATABASE_URL"))
  .addOption(new Option("--redis-url <url>", "redis:// or rediss:// URL with the AUTH token").env("REDIS_URL"))
  .option("--bucket <name>", "object storage bucket for the canary write/read/delete")
  .option("--s3-endpoint <url>", "S3-compatible endpoint (path-style), unset for AWS S3")
  .addOption(new Option("--region <region>", "AWS region of the bucket (default: the AWS SDK's own, from AWS_REGION or the profile)").env("AWS_REGION"))
  .option("--timeout-ms <ms>", "deadline of every network call", timeoutOption, 5000)
  .option("--json", "print the results as one JSON document instead of a table");

runAsProcess<IncidentCliOptions>(program, async (o) => {
  const baseUrl = required(o.baseUrl, "--base-url", "--base-url=https://api.example.com");
  const databaseUrl = !o.databaseUrl ? undefined : connectionUrl(o.databaseUrl, "--database-url (or DATABASE_URL)", POSTGRES_SCHEMES);
  const redisUrl = !o.redisUrl ? undefined : connectionUrl(o.redisUrl, "--redis-url (or REDIS_URL)", REDIS_SCHEMES);
  const results = await runIncidentCheck({ ...o, baseUrl, databaseUrl, redisUrl });
  return printReport(results, { command: "incident-check", title: `Incident check: ${baseUrl}`, json: o.json ?? false, target: { baseUrl } });
});
