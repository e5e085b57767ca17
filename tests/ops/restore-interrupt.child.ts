import { localBackend, runDrill, validate } from "../../ops/restore";
import { SAMPLE_TABLES } from "../../ops/restore/sample";

/**
 * A drill run in its own process, the way a CLI runs one: SIGINT or SIGTERM aborts it (an
 * AbortController, no process.exit inside the drill), the drill starts no further step and deletes
 * its temporary database, then the process exits with the signal's code. Each step is printed on
 * stdout for tests/ops/restore.interrupt.test.ts to time its signal. The domain check sleeps, to
 * hold the drill inside its validation step.
 */

const adminUrl = process.env.DRILL_ADMIN_URL;
if (!adminUrl) throw new Error("DRILL_ADMIN_URL is not set");

const controller = new AbortController();
let interruptedBy: NodeJS.Signals | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  // A second signal must not cut the deletion short: the first one already asked for it.
  interruptedBy ??= signal;
  controller.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

runDrill({
  backend: localBackend({ adminUrl, sourceDatabase: "app" }),
  mode: "snapshot",
  window: "2025-W03",
  temporaryId: "drill_interrupted",
  validator: validate,
  checks: {
    expectedTables: [...SAMPLE_TABLES],
    statementTimeoutMs: 120_000,
    domainChecks: [{ name: "slow", sql: "SELECT 1 AS id FROM pg_sleep(60)" }],
  },
  signal: controller.signal,
  onStep: (step, state) => process.stdout.write(`${step}:${state}\n`),
}).then(
  (record) => process.exit(interruptedBy ? (interruptedBy === "SIGINT" ? 130 : 143) : record.passed ? 0 : 1),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
