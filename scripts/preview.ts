import { Command, Option } from "commander";
import { ConfigError, PROJECT } from "../config";
import { STACKS, type StackName } from "../runbook";
import { ProgramError, redactedInputs, runProgram, type ProgramResult, type RecordedOptions, type RecordedResource } from "../tests/support/harness";

/**
 * The offline preview (`npm start`): runs the real program for one stack under Pulumi's mock
 * runtime, from that stack's YAML, and prints what `pulumi up` would register. It needs no Pulumi
 * CLI, no cloud credentials and no network; outputs that only the cloud knows (ids, endpoints)
 * are the harness's realistic stand-ins.
 */

export interface PlanPolicyResult {
  policy: string;
  resource: string;
  level: "mandatory" | "advisory" | "remediate" | "disabled";
  message: string;
}

export interface Plan {
  stack: StackName;
  resources: { type: string; name: string; parent: string | null; inputs: Record<string, unknown>; options: RecordedOptions }[];
  outputs: Record<string, unknown>;
  policies: PlanPolicyResult[];
}

/** The machine-readable plan, with every secret value replaced by "[secret]". */
export function toPlan(result: ProgramResult, policies: PlanPolicyResult[]): Plan {
  return {
    stack: result.stack,
    resources: result.resources.map((r) => ({
      type: r.type,
      name: r.name,
      parent: r.parentName ?? null,
      inputs: redactedInputs(r),
      options: r.options,
    })),
    outputs: Object.fromEntries(
      Object.entries(result.outputs).map(([k, v]) => [k, result.secretOutputs.includes(k) ? "[secret]" : v]),
    ),
    policies,
  };
}

/** Components and their children as an indented tree, one line per resource. */
export function renderTree(resources: readonly RecordedResource[]): string[] {
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const r of resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      const descendants = countDescendants(children, r.urn);
      const label = `${r.name}  ${r.type}${descendants > 0 ? `  (${descendants} resources)` : ""}${protectionMark(r.options)}`;
      lines.push(parent === undefined ? label : `${prefix}${last ? "└─ " : "├─ "}${label}`);
      walk(r.urn, parent === undefined ? "" : `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(undefined, "");
  return lines;
}

/** `  [protected]`, `  [retained]` or both: what `pulumi destroy` will not delete. */
function protectionMark(options: RecordedOptions): string {
  const marks = [options.protect ? "protected" : undefined, options.retainOnDelete ? "retained" : undefined].filter(Boolean);
  return marks.length > 0 ? `  [${marks.join(", ")}]` : "";
}

function countDescendants(children: Map<string | undefined, RecordedResource[]>, urn: string): number {
  return (children.get(urn) ?? []).reduce((n, c) => n + 1 + countDescendants(children, c.urn), 0);
}

/** Resource counts per type, most frequent first. */
export function countByType(resources: readonly RecordedResource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

async function evaluatePolicies(result: ProgramResult): Promise<{ findings: PlanPolicyResult[]; evaluated: number }> {
  const [{ evaluatePolicies: evaluate }, { RUNBOOK_POLICIES }] = await Promise.all([import("../policies/evaluate.js"), import("../policies/all.js")]);
  return { findings: await evaluate(result.resources, { stack: result.stack }), evaluated: RUNBOOK_POLICIES.length };
}

async function main(): Promise<number> {
  const program = new Command()
    .name("npm start --")
    .description("Offline preview of the runbook platform: the real program under Pulumi's mock runtime.")
    .addOption(new Option("--stack <stack>", "stack to preview").choices(STACKS).default("staging"))
    .option("--json", "write the plan as JSON to stdout (secrets replaced by \"[secret]\")", false)
    .parse();
  const { stack, json } = program.opts<{ stack: StackName; json: boolean }>();
  const started = performance.now();
  const log = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);

  log(`Offline preview of ${PROJECT}/${stack} from Pulumi.${stack}.yaml: Pulumi mock runtime, no Pulumi CLI, no cloud credentials, no network.`);
  let result: ProgramResult;
  try {
    result = await runProgram({ stack });
  } catch (error) {
    const cause = error instanceof ProgramError ? error.cause : error;
    if (cause instanceof ConfigError) {
      process.stderr.write(`${cause.message}\n`);
      return 2;
    }
    throw cause;
  }
  const { findings: policies, evaluated } = await evaluatePolicies(result);
  const plan = toPlan(result, policies);
  const mandatory = policies.filter((p) => p.level === "mandatory");

  if (json) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  } else {
    log("");
    for (const line of renderTree(result.resources)) log(line);
    log("");
    log("Resources by type:");
    for (const [type, count] of countByType(result.resources)) log(`  ${String(count).padStart(4)}  ${type}`);
    log("");
    log("Stack outputs:");
    for (const [key, value] of Object.entries(plan.outputs)) {
      log(`  ${key}: ${value === undefined ? "(known after pulumi up)" : typeof value === "string" ? value : JSON.stringify(value)}`);
    }
    log("");
    log(`CrossGuard policy pack: ${evaluated} policies evaluated in-process over this plan, ${policies.length === 0 ? "no violations" : `${policies.length} findings`}`);
    for (const p of policies) log(`  [${p.level}] ${p.policy} on ${p.resource}: ${p.message}`);
  }
  const components = result.resources.filter((r) => !r.custom).length;
  log("");
  log(
    `Summary: ${result.resources.length} resources (${components} components, ${result.resources.length - components} cloud and Kubernetes resources), ` +
      `${Object.keys(plan.outputs).length} outputs, ${mandatory.length} mandatory policy violations, ` +
      `${policies.length - mandatory.length} advisory findings; ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  return mandatory.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    // Exit once stdout has drained: a large --json plan written to a pipe is flushed asynchronously.
    (code) => process.stdout.write("", () => process.exit(code)),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(3);
    },
  );
}
