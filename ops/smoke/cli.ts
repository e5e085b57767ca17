import { Command, InvalidArgumentError } from "commander";
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

const program = new Command("ops:staging-smoke")
  .description("Staging smoke checks: TLS, health endpoints, X-Request-Id, representative read paths")
  .requiredOption("--base-url <url>", "https://<staging-host>", baseUrlOption)
  .option("--read-path <path>", "a read-only path that must answer 2xx (repeatable; default: SMOKE_READ_PATHS, comma-separated)", collect, [])
  .option("--timeout-ms <ms>", "deadline of every network call", timeoutOption, 10_000)
  .option("--allow-http", "accept an http:// base URL (local runs only)")
  .option("--json", "print the results as JSON instead of a table")
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ baseUrl: string; readPath: string[]; timeoutMs: number; allowHttp?: boolean; json?: boolean }>();
  const fromEnv = (process.env.SMOKE_READ_PATHS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  const readPaths = o.readPath.length > 0 ? o.readPath : fromEnv.reduce<string[]>((all, p) => collect(p, all), []);
  const results = await runSmoke({
    baseUrl: o.baseUrl,
    readPaths,
    timeoutMs: o.timeoutMs,
    allowHttp: o.allowHttp ?? false,
  });
  const exitCode = await printReport(results, { command: "staging-smoke", title: `Staging smoke: ${o.baseUrl}`, json: o.json ?? false, target: { baseUrl: o.baseUrl } });
  // Exit once the report is out: idle keep-alive sockets would otherwise hold the process open.
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  process.stderr.write(`ops:staging-smoke: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
