import { RUNBOOK_POLICIES } from "../../policies/all";
import { evaluatePolicies } from "../../policies/evaluate";
import { runProgram } from "../../tests/support/harness";
import { median, type BenchRow } from "./types";

/**
 * What the policy pack adds to `npm start`: evaluating every policy over the production plan,
 * against the baseline of running the program under the mock runtime for the same plan.
 */
export async function benchPolicies(): Promise<BenchRow[]> {
  const runs = 7;
  const program: number[] = [];
  const policies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = await runProgram({ stack: "production" });
    program.push(performance.now() - started);
    const evaluated = performance.now();
    const findings = await evaluatePolicies(result.resources, { stack: "production" });
    policies.push(performance.now() - evaluated);
    if (findings.length > 0) throw new Error(`production has ${findings.length} policy findings; the benchmark measures a passing plan`);
  }
  return [
    { name: "offline preview: program under mocks (production)", samples: program, unit: "ms" },
    { name: `offline preview: ${RUNBOOK_POLICIES.length} policies over the plan (production)`, samples: policies, unit: "ms", baseline: "offline preview: program under mocks (production)" },
  ];
}

if (require.main === module) {
  benchPolicies().then(
    (rows) => {
      for (const row of rows) process.stdout.write(`${row.name}: median ${median(row.samples).toFixed(1)} ${row.unit} (n=${row.samples.length})\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
