import type { EnforcementLevel, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT_LEVEL, RUNBOOK_POLICIES } from "./all";
import { configOf, ENVIRONMENT_TAG, isStackPolicy, type RunbookPolicy, type RunbookResourcePolicy, type SecretAware } from "./lib/policy";

/**
 * Runs the pack in-process over a recorded plan (tests/support/harness.ts's RecordedResource list),
 * building each policy's arguments the way CrossGuard's analyzer does (pulumi-policy-aws's
 * createResourceValidationArgs: type, props, urn, name, opts, isType/asType, getConfig,
 * notApplicable, stackTags). It never constructs the PolicyPack: that starts a gRPC server.
 *
 * Differences from `pulumi preview --policy-pack policies`, on purpose:
 * - stack policies see inputs (the harness records no real outputs), and `propertyDependencies`
 *   from the registration, which is how they join a bucket to its public access block;
 * - secret inputs arrive as plain values plus `secretPaths` (CrossGuard unwraps secrets and says
 *   nothing), so `no-plain-secrets` is exact here and falls back to designed secret inputs there;
 * - a violation's message is exactly what the policy reported (CrossGuard prefixes the description).
 */

/** A registered resource, as the harness records it. */
export interface PolicyInputResource {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, unknown>;
  /** Dotted paths of inputs that were secrets. */
  secretPaths?: readonly string[];
  /** The parent's URN. */
  parent?: string;
  /** URNs each input depends on. */
  propertyDependencies?: Record<string, string[]>;
  /** The resource options the registration carried (the harness records them from the engine request). */
  options?: { protect?: boolean; ignoreChanges?: string[]; deleteBeforeReplace?: boolean; aliases?: unknown[] };
}

type PolicySettings = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);

/** The pack's config, as `--policy-pack-config` or a PolicyGroup takes it; `all` sets every policy's level. */
export type PackConfig = Record<string, PolicySettings>;

export interface EvaluateOptions {
  /** The stack under analysis; the `environment` stack tag defaults to it (the delivery program tags stacks so). */
  stack: string;
  config?: PackConfig;
  /** Stack tags; merged over `{ environment: stack }`. */
  stackTags?: Record<string, string>;
  /** @default the whole pack */
  policies?: readonly RunbookPolicy[];
}

export interface PolicyFinding {
  policy: string;
  /** The resource's logical name, or `(stack)` for a stack-wide violation. */
  resource: string;
  level: EnforcementLevel;
  message: string;
}

class NotApplicable extends Error {}

const DEFAULT_OPTIONS: Omit<PolicyResourceOptions, "parent"> = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** The options CrossGuard hands a policy: the registration's, over the engine's defaults. */
function optionsOf(resource: PolicyInputResource): PolicyResourceOptions {
  const { protect, ignoreChanges, deleteBeforeReplace, aliases } = resource.options ?? {};
  return {
    ...DEFAULT_OPTIONS,
    protect: protect ?? false,
    ignoreChanges: ignoreChanges ?? [],
    aliases: (aliases ?? []).filter((alias): alias is string => typeof alias === "string"),
    ...(deleteBeforeReplace === undefined ? {} : { deleteBeforeReplace }),
    parent: resource.parent,
  };
}

/** CrossGuard's type test: the class's `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const cls = resourceClass as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
  if (typeof cls.__pulumiType === "string" && cls.__pulumiType.length > 0) return cls.__pulumiType === type;
  return typeof cls.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

function levelOf(policy: RunbookPolicy, config: PackConfig): EnforcementLevel {
  const own = config[policy.name];
  const all = config.all;
  const fromOwn = typeof own === "string" ? own : own?.enforcementLevel;
  const fromAll = typeof all === "string" ? all : all?.enforcementLevel;
  return fromOwn ?? fromAll ?? policy.enforcementLevel ?? DEFAULT_ENFORCEMENT_LEVEL;
}

function settingsOf(policy: RunbookPolicy, config: PackConfig): Record<string, unknown> {
  const own = config[policy.name];
  if (typeof own !== "object") return configOf(policy.configSchema, {});
  const { enforcementLevel: _level, ...settings } = own;
  return configOf(policy.configSchema, settings);
}

const throwNotApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "not applicable");
};

function resourceArgs(resource: PolicyInputResource, props: Record<string, unknown>, policy: RunbookPolicy, config: PackConfig, stackTags: ReadonlyMap<string, string>): ResourceValidationArgs & SecretAware {
  return {
    type: resource.type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: optionsOf(resource),
    stackTags,
    isType: (cls) => isTypeOf(resource.type, cls),
    asType: ((cls: unknown) => (isTypeOf(resource.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => settingsOf(policy, config) as T,
    notApplicable: throwNotApplicable,
    secretPaths: resource.secretPaths,
  };
}

async function validations(policy: RunbookResourcePolicy, args: ResourceValidationArgs, report: (message: string) => void): Promise<void> {
  const list = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of list) {
    try {
      await validate(args, report);
    } catch (error) {
      if (error instanceof NotApplicable) return;
      throw new Error(`policy ${policy.name} failed on ${args.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** Runs every remediation, resource policy and stack policy over the plan; returns what they reported. */
export async function evaluatePolicies(resources: readonly PolicyInputResource[], options: EvaluateOptions): Promise<PolicyFinding[]> {
  const config = options.config ?? {};
  const policies = (options.policies ?? RUNBOOK_POLICIES).filter((p) => levelOf(p, config) !== "disabled");
  const stackTags: ReadonlyMap<string, string> = new Map(Object.entries({ [ENVIRONMENT_TAG]: options.stack, ...options.stackTags }));
  const findings: PolicyFinding[] = [];
  const resourcePolicies = policies.filter((p): p is RunbookResourcePolicy => !isStackPolicy(p));

  // Remediations run first and change what is registered, as in the engine.
  const props = new Map<string, Record<string, unknown>>(resources.map((r) => [r.urn, structuredClone(r.inputs)]));
  for (const resource of resources) {
    for (const policy of resourcePolicies) {
      if (levelOf(policy, config) !== "remediate" || !policy.remediateResource) continue;
      const before = props.get(resource.urn) as Record<string, unknown>;
      try {
        const after = (await policy.remediateResource(resourceArgs(resource, structuredClone(before), policy, config, stackTags))) as Record<string, unknown> | undefined;
        if (after && changedKeys(before, after).length > 0) {
          findings.push({ policy: policy.name, resource: resource.name, level: "remediate", message: `remediated: ${changedKeys(before, after).map((k) => `${k} = ${JSON.stringify(after[k])}`).join(", ")}` });
          props.set(resource.urn, after);
        }
      } catch (error) {
        if (!(error instanceof NotApplicable)) throw error;
      }
    }
  }

  for (const resource of resources) {
    for (const policy of resourcePolicies) {
      const level = levelOf(policy, config);
      // As CrossGuard does: a violation left after remediation is reported as mandatory.
      const reported: EnforcementLevel = level === "remediate" ? "mandatory" : level;
      const args = resourceArgs(resource, structuredClone(props.get(resource.urn) as Record<string, unknown>), policy, config, stackTags);
      await validations(policy, args, (message) => findings.push({ policy: policy.name, resource: resource.name, level: reported, message }));
    }
  }

  const byUrn = new Map<string, PolicyResource>();
  for (const resource of resources) {
    const resourceProps = props.get(resource.urn) as Record<string, unknown>;
    byUrn.set(resource.urn, {
      type: resource.type,
      props: resourceProps,
      urn: resource.urn,
      name: resource.name,
      opts: optionsOf(resource),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(resource.type, cls),
      asType: ((cls: unknown) => (isTypeOf(resource.type, cls) ? resourceProps : undefined)) as PolicyResource["asType"],
    });
  }
  for (const resource of resources) {
    const node = byUrn.get(resource.urn) as PolicyResource;
    node.parent = resource.parent ? byUrn.get(resource.parent) : undefined;
    const deps = Object.entries(resource.propertyDependencies ?? {}).map(([k, urns]) => [k, urns.map((u) => byUrn.get(u)).filter((r): r is PolicyResource => r !== undefined)] as const);
    node.propertyDependencies = Object.fromEntries(deps);
    node.dependencies = [...new Set(deps.flatMap(([, rs]) => rs))];
  }
  const stackResources = [...byUrn.values()];
  for (const policy of policies.filter(isStackPolicy)) {
    const level = levelOf(policy, config);
    const args: StackValidationArgs = {
      resources: stackResources,
      stackTags,
      getConfig: <T extends object>() => settingsOf(policy, config) as T,
      notApplicable: throwNotApplicable,
    };
    try {
      await policy.validateStack(args, (message, urn) =>
        findings.push({ policy: policy.name, resource: urn ? (byUrn.get(urn)?.name ?? urn) : "(stack)", level: level === "remediate" ? "mandatory" : level, message }),
      );
    } catch (error) {
      if (error instanceof NotApplicable) continue;
      throw new Error(`policy ${policy.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return findings;
}
