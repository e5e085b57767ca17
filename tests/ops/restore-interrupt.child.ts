import { localBackend, runDrill } from "../../ops/restore";
import { SAMPLE_TABLES } from "../../ops/restore/sample";

/**
 * A drill run in its own process so that tests/ops/restore.interrupt.test.ts can send it SIGINT or
 * SIGTERM mid-run, as Ctrl-C or a cancelled deployment would. Each step is printed on stdout for
 * the test to time its signal. The domain check sleeps, to hold the drill inside its integrity step.
 */

const adminUrl = process.env.DRILL_ADMIN_URL;
if (!adminUrl) throw new Error("DRILL_ADMIN_URL is not set");

runDrill({
  backend: localBackend({ adminUrl, sourceDatabase: "app" }),
  mode: "snapshot",
  window: "2025-W03",
  temporaryId: "drill_interrupted",
  integrity: {
    expectedTables: [...SAMPLE_TABLES],
    statementTimeoutMs: 120_000,
    domainChecks: [{ name: "slow", sql: "SELECT 1 FROM pg_sleep(60) WHERE false" }],
  },
  onStep: (step, state) => process.stdout.write(`${step}:${state}\n`),
}).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
