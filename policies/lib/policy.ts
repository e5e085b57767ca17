import type {
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/**
 * What every rule of the pack carries besides CrossGuard's own fields: the runbook line it protects,
 * so a violation can always be traced back to ../shared/RUNBOOK.md.
 */
export interface RunbookLine {
  /** The runbook line (or section) the policy protects, quoted. */
  runbookLine: string;
}

export type RunbookResourcePolicy = ResourceValidationPolicy & RunbookLine;
export type RunbookStackPolicy = StackValidationPolicy & RunbookLine;
export type RunbookPolicy = RunbookResourcePolicy | RunbookStackPolicy;

export function isStackPolicy(policy: RunbookPolicy): policy is RunbookStackPolicy {
  return "validateStack" in policy && typeof policy.validateStack === "function";
}

/**
 * The stack tag that says which environment a stack is. The delivery program sets it on every stack
 * (pulumiservice.StackTag); CrossGuard hands stack tags to every policy (`args.stackTags`).
 */
export const ENVIRONMENT_TAG = "environment";

/** Config shared by the policies whose rule differs in production. */
export const PRODUCTION_ENVIRONMENTS_SCHEMA: PolicyConfigJSONSchema = {
  type: "array",
  items: { type: "string" },
  default: ["production"],
  description: "Environments (the `environment` stack tag, or the stack name) held to production rules.",
};

/**
 * The environment of the stack under analysis: the `environment` stack tag, else the stack name the
 * Pulumi CLI passes the analyzer process (PULUMI_NODEJS_STACK).
 */
export function environmentOf(stackTags: ReadonlyMap<string, string>): string | undefined {
  return stackTags.get(ENVIRONMENT_TAG) ?? process.env.PULUMI_NODEJS_STACK;
}

/**
 * The policy's config with the schema's defaults filled in. The Pulumi CLI applies schema defaults
 * before a pack runs; applying them here too keeps each default in one place (the schema) for the
 * in-process evaluator and the tests.
 */
export function configOf<T extends object>(schema: PolicyConfigSchema | undefined, given: Partial<T>): T {
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema?.properties ?? {})) {
    if (property.default !== undefined) defaults[key] = property.default;
  }
  return { ...defaults, ...given } as T;
}

/** True when the stack is held to production rules (see PRODUCTION_ENVIRONMENTS_SCHEMA). */
export function isProductionStack(stackTags: ReadonlyMap<string, string>, productionEnvironments: readonly string[]): boolean {
  const environment = environmentOf(stackTags);
  return environment !== undefined && productionEnvironments.includes(environment);
}

/**
 * The resources of `candidates` that point at `target` through the input `property`: by the engine's
 * property dependencies when it sent them, else by the value (`bucket: "my-bucket"`) matching one of
 * the target's identifying props.
 */
export function pointingAt(
  candidates: readonly PolicyResource[],
  property: string,
  target: PolicyResource,
  targetKeys: readonly string[],
): PolicyResource[] {
  const identifiers = new Set(
    targetKeys.map((k) => target.props[k]).filter((v): v is string => typeof v === "string" && v.length > 0),
  );
  return candidates.filter((candidate) => {
    const byDependency = candidate.propertyDependencies?.[property]?.some((dep) => dep.urn === target.urn) ?? false;
    const value: unknown = candidate.props[property];
    const values = Array.isArray(value) ? value : [value];
    return byDependency || values.some((v) => typeof v === "string" && identifiers.has(v));
  });
}

/** The stack's resources of one type token. */
export function resourcesOfType(args: Pick<StackValidationArgs, "resources">, type: string): PolicyResource[] {
  return args.resources.filter((r) => r.type === type);
}

/**
 * What the in-process evaluator (policies/evaluate.ts) adds to CrossGuard's resource args: the dotted
 * paths of inputs that reached the engine as secrets. The CrossGuard analyzer unwraps secrets before
 * a policy sees them, so under `pulumi preview --policy-pack` this is undefined.
 */
export interface SecretAware {
  secretPaths?: readonly string[];
}
