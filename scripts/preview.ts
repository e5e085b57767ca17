import * as path from "node:path";
import { PROJECT } from "../config";
import { CliError, createCommand, runAsProcess } from "../ops/lib/cli";
import { plural } from "../ops/lib/report";
import { listStacks, requireStackFile } from "../stackFiles";
import { ProgramError, redactedInputs, runProgram, stackConfig, type ProgramResult, type RecordedOptions, type RecordedResource } from "../tests/support/harness";

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
  stack: string;
  resources: { type: string; name: string; parent: string | null; inputs: Record<string, unknown>; options: RecordedOptions }[];
  outputs: Record<string, unknown>;
  policies: PlanPolicyResult[];
}

/** What the plan says in place of a value that is only known after `pulumi up` (JSON has no undefined). */
const KNOWN_AFTER_UP = "[known after pulumi up]";

/**
 * The machine-readable plan, with every secret value replaced by "[secret]" and every output only
 * known after `pulumi up` by {@link KNOWN_AFTER_UP}, so each stack output has its key.
 */
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
      Object.entries(result.outputs).map(([k, v]) => [k, result.secretOutputs.includes(k) ? "[secret]" : v === undefined ? KNOWN_AFTER_UP : v]),
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

async function evaluatePolicies(result: ProgramResult, environment: string | undefined): Promise<{ findings: PlanPolicyResult[]; evaluated: number }> {
  const [{ evaluatePolicies: evaluate }, { RUNBOOK_POLICIES }] = await Promise.all([import("../policies/evaluate.js"), import("../policies/all.js")]);
  // The stack's declared environment, the stack tag the delivery program sets for the policy pack.
  const stackTags: Record<string, string> = environment === undefined ? {} : { environment };
  return { findings: await evaluate(result.resources, { stack: result.stack, stackTags }), evaluated: RUNBOOK_POLICIES.length };
}

/**
 * Stack outputs as people scan them: `key: value`, and an object or list as an indented table under
 * its key (one `name  value` row per entry, names aligned), never one long JSON line.
 */
export function renderOutputs(outputs: Record<string, unknown>): string[] {
  const scalar = (value: unknown) => (value === undefined ? KNOWN_AFTER_UP : typeof value === "string" ? value : JSON.stringify(value));
  const lines: string[] = [];
  for (const [key, value] of Object.entries(outputs)) {
    if (typeof value !== "object" || value === null) {
      lines.push(`  ${key}: ${scalar(value)}`);
      continue;
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) {
      lines.push(`  ${key}: (none)`);
      continue;
    }
    lines.push(`  ${key}:`);
    if (Array.isArray(value)) {
      for (const [, v] of entries) lines.push(`    - ${scalar(v)}`);
      continue;
    }
    const width = Math.max(...entries.map(([k]) => k.length));
    for (const [k, v] of entries) lines.push(`    ${k.padEnd(width)}  ${scalar(v)}`);
  }
  return lines;
}

interface PreviewOptions {
  stack?: string;
  configFile?: string;
  json?: boolean;
}

/**
 * The stack a `--config-file` is for, from its name (`Pulumi.dev.yaml` is `dev`), as when Pulumi
 * reads the file next to its stack.
 * @throws CliError (exit 2) when the name does not say, asking for --stack
 */
function stackOfFile(file: string): string {
  const stack = /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file))?.[1];
  if (stack === undefined) throw new CliError(`--config-file ${file} is not named Pulumi.<stack>.yaml: pass --stack <name> with it`);
  return stack;
}

/** The command: previews one stack; 0 clean, 1 a mandatory policy violation, 2 a config or stack-file error. */
async function preview(options: PreviewOptions): Promise<number> {
  const { configFile, json = false } = options;
  const stack = options.stack ?? (configFile === undefined ? "staging" : stackOfFile(configFile));
  if (configFile === undefined) requireStackFile(stack, "pass --config-file <file> for a stack file elsewhere");
  const started = performance.now();
  const log = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);

  log(`Offline preview of ${PROJECT}/${stack} from ${configFile ?? `Pulumi.${stack}.yaml`}: Pulumi mock runtime, no Pulumi CLI, no cloud credentials, no network.`);
  let result: ProgramResult;
  try {
    result = await runProgram({ stack, ...(configFile === undefined ? {} : { stackFile: configFile }) });
  } catch (error) {
    // A bad setting or stack file is the user's to fix (exit 2, no stack trace); anything else is ours.
    throw error instanceof ProgramError ? error.cause : error;
  }
  const { findings: policies, evaluated } = await evaluatePolicies(result, stackConfig(stack, {}, configFile)[`${PROJECT}:environment`]);
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
    for (const line of renderOutputs(plan.outputs)) log(line);
    log("");
    log(`CrossGuard policy pack: ${plural(evaluated, "policy", "policies")} evaluated in-process over this plan, ${policies.length === 0 ? "no violations" : plural(policies.length, "finding")}`);
    for (const p of policies) log(`  [${p.level}] ${p.policy} on ${p.resource}: ${p.message}`);
  }
  const components = result.resources.filter((r) => !r.custom).length;
  log("");
  log(
    `Summary: ${plural(result.resources.length, "resource")} (${plural(components, "component")}, ${result.resources.length - components} cloud and Kubernetes resources), ` +
      `${plural(Object.keys(plan.outputs).length, "output")}, ${plural(mandatory.length, "mandatory policy violation")}, ` +
      `${plural(policies.length - mandatory.length, "advisory finding")}; ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  return mandatory.length > 0 ? 1 : 0;
}

if (require.main === module) {
  const program = createCommand("start", "Offline preview of the runbook platform: the real program for one stack under Pulumi's mock runtime.")
    .configureHelp({ commandUsage: () => "npm start -- [options]" })
    .option("--stack <stack>", `stack to preview, from its Pulumi.<stack>.yaml (${listStacks().join(", ")}); default: the --config-file's stack, else staging`)
    .option("--config-file <file>", "read the stack's settings from this file instead of Pulumi.<stack>.yaml (as pulumi --config-file)")
    .option("--json", 'write the plan as one JSON document to stdout (secrets replaced by "[secret]"); run it as npm -s start -- --json');
  runAsProcess<PreviewOptions>(program, preview);
}
