import { InvalidArgumentError } from "commander";
import { createCommand, required, runAsProcess } from "../lib/cli";
import { printReport } from "../lib/report";
import { baseUrlOption, timeoutOption } from "../incident/options";
import { runSmoke } from "./index";

/**
 * npm run ops:staging-smoke -- --base-url=https://<staging-host> [--read-path=/api/...]... [--json]
 * Exits 1 when any check fails, 2 on a usage error. .github/workflows/staging-smoke.yml runs it.
 * A private CA (a self-hosted staging) is trusted through NODE_EXTRA_CA_CERTS, as for any Node TLS.
 */

function collect(value: string, previous: string[]): string[] {
  if (!value.startsWith("/")) throw new InvalidArgumentError(`"${value}" must start with "/"`);
  return [...previous, value];
}

interface SmokeCliOptions {
  baseUrl?: string;
  readPath: string[];
  timeoutMs: number;
  allowHttp?: boolean;
  json?: boolean;
}

const program = createCommand("ops:staging-smoke", "Staging smoke checks: TLS, health endpoints, X-Request-Id, representative read paths")
  .option("--base-url <url>", "(required) https://<staging-host>", baseUrlOption)
  .option("--read-path <path>", "a read-only path that must answer 2xx (repeatable; default: SMOKE_READ_PATHS, comma-separated)", collect, [])
  .option("--timeout-ms <ms>", "deadline of every network call", timeoutOption, 10_000)
  .option("--allow-http", "accept an http:// base URL and skip the TLS check (local runs only)")
  .option("--json", "print the results as one JSON document instead of a table");

runAsProcess<SmokeCliOptions>(program, async (o) => {
  const baseUrl = required(o.baseUrl, "--base-url", "--base-url=https://staging.example.com");
  const fromEnv = (process.env.SMOKE_READ_PATHS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  const readPaths = o.readPath.length > 0 ? o.readPath : fromEnv.reduce<string[]>((all, p) => collect(p, all), []);
  const results = await runSmoke({ baseUrl, readPaths, timeoutMs: o.timeoutMs, allowHttp: o.allowHttp ?? false });
  return printReport(results, { command: "staging-smoke", title: `Staging smoke: ${baseUrl}`, json: o.json ?? false, target: { baseUrl } });
});
