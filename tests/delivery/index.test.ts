import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Delivery, validateDeliveryArgs, type DeliveryArgs } from "../../delivery/delivery";
import { PROJECT } from "../../config";
import { POLICY_PACK_NAME } from "../../policies/all";
import { RESTORE_DRILL_CRON } from "../../runbook";
import { readStackFile } from "../support/harness";

/**
 * The delivery program (delivery/index.ts) under Pulumi's mock runtime. It reads no Pulumi config
 * (only the platform's stack files), so it needs none of the harness's config plumbing; its own
 * project and stack are set here.
 */
interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];
const outputs: Record<string, unknown> = {};

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        registered.push({ type, name, inputs: inputs as Record<string, unknown> });
        return { id: `${name}-id`, state: inputs };
      },
      call: ({ token }) => {
        throw new Error(`no invoke expected, got ${token}`);
      },
    },
    `${PROJECT}-delivery`,
    "delivery",
    false,
  );
  type Program = () => Promise<Record<string, pulumi.Input<unknown>>>;
  const mod = (await import("../../delivery/index.js")) as unknown as Program | { default: Program };
  const program = typeof mod === "function" ? mod : mod.default;
  const raw = await program();
  for (const [key, value] of Object.entries(raw)) {
    outputs[key] = await new Promise((resolve) => (pulumi.output(value) as pulumi.Output<unknown>).apply(resolve));
  }
});

const ofType = (type: string) => registered.filter((r) => r.type === type);
const named = (name: string) => {
  const found = registered.find((r) => r.name === name);
  if (!found) throw new Error(`nothing registered as ${name}: ${registered.map((r) => r.name).join(", ")}`);
  return found;
};
const delivery = (stack: "staging" | "production") => readStackFile(stack)[`${PROJECT}:delivery`] as { paths: string[]; driftCron: string; awsRoleArn: string };

describe("the delivery program", () => {
  it("tags each platform stack with its environment, which the policy pack reads", () => {
    expect(ofType("pulumiservice:index:StackTag").map((r) => r.inputs)).toEqual([
      { organization: "acme", project: PROJECT, stack: "staging", name: "environment", value: "staging" },
      { organization: "acme", project: PROJECT, stack: "production", name: "environment", value: "production" },
    ]);
  });

  it("deploys staging on every push to main and previews pull requests, filtered by path", () => {
    expect(named("delivery-staging-settings").inputs).toEqual({
      organization: "acme",
      project: PROJECT,
      stack: "staging",
      vcs: { provider: "github", repository: "acme/runbook-app", deployCommits: true, previewPullRequests: true, pullRequestTemplate: false, paths: delivery("staging").paths },
      sourceContext: { git: { branch: "refs/heads/main" } },
      operationContext: {
        options: { skipIntermediateDeployments: true },
        oidc: { aws: { roleARN: delivery("staging").awsRoleArn, sessionName: "pulumi-deployments-staging" } },
      },
    });
    expect(delivery("staging").paths).toContain("Pulumi.staging.yaml");
  });

  it("only previews production: promotion to production is a deliberate step", () => {
    const vcs = named("delivery-production-settings").inputs.vcs as Record<string, unknown>;
    expect(vcs.deployCommits).toBe(false);
    expect(vcs.previewPullRequests).toBe(true);
    expect(vcs.paths).toContain("Pulumi.production.yaml");
  });

  it("runs `pulumi up` weekly at the runbook's drill time on staging only: no schedule deploys to production", () => {
    expect(ofType("pulumiservice:index:DeploymentSchedule").map((r) => r.inputs)).toEqual([
      { organization: "acme", project: PROJECT, stack: "staging", pulumiOperation: "update", scheduleCron: RESTORE_DRILL_CRON },
    ]);
    expect(registered.filter((r) => r.inputs.stack === "production" && r.type.startsWith("pulumiservice:")).map((r) => r.type).sort()).toEqual([
      "pulumiservice:index:DeploymentSettings",
      "pulumiservice:index:DriftSchedule",
      "pulumiservice:index:StackTag",
    ]);
  });

  it("detects drift on each stack's schedule, without auto-remediation", () => {
    expect(ofType("pulumiservice:index:DriftSchedule").map((r) => r.inputs)).toEqual([
      { organization: "acme", project: PROJECT, stack: "staging", scheduleCron: delivery("staging").driftCron, autoRemediate: false },
      { organization: "acme", project: PROJECT, stack: "production", scheduleCron: delivery("production").driftCron, autoRemediate: false },
    ]);
  });

  it("enforces the policy pack on both stacks, blocking on violations", () => {
    expect(ofType("pulumiservice:index:PolicyGroup").map((r) => r.inputs)).toEqual([
      {
        name: `${PROJECT}-runbook`,
        organizationName: "acme",
        entityType: "stacks",
        mode: "preventative",
        stacks: [
          { name: "staging", routingProject: PROJECT },
          { name: "production", routingProject: PROJECT },
        ],
        policyPacks: [{ name: POLICY_PACK_NAME }],
      },
    ]);
    expect(outputs).toEqual({ deployedStacks: ["staging", "production"], policyGroupName: `${PROJECT}-runbook` });
  });

  it("names every child after the component", () => {
    for (const r of registered.filter((r) => r.type.startsWith("pulumiservice:"))) expect(r.name.startsWith("delivery-")).toBe(true);
  });
});

describe("validateDeliveryArgs", () => {
  const stack = { stack: "staging", environment: "staging", enabled: true, deployOnPush: true, previewPullRequests: true, paths: ["components/**"], driftCron: "0 6 * * *" };
  const good: DeliveryArgs = { organization: "acme", project: PROJECT, repository: "acme/runbook-app", restoreDrillCron: RESTORE_DRILL_CRON, policyPack: { name: POLICY_PACK_NAME }, stacks: [stack] };
  it("accepts good args", () => {
    expect(() => validateDeliveryArgs(good)).not.toThrow();
  });
  it("configures no deployments for a disabled stack, but still tags it and keeps it under the policy group", async () => {
    const component = new Delivery("off", { ...good, stacks: [{ ...stack, enabled: false }] });
    expect(await new Promise((resolve) => component.deployedStacks.apply(resolve))).toEqual([]);
    await new Promise((resolve) => component.policyGroupName.apply(resolve));
    expect(registered.filter((r) => r.name.startsWith("off-")).map((r) => r.type).sort()).toEqual(["pulumiservice:index:PolicyGroup", "pulumiservice:index:StackTag"]);
  });
  it.each([
    [{ ...good, restoreDrillCron: "weekly" }, 'Delivery: restoreDrillCron "weekly" is not a five-field cron expression such as "0 4 * * 1".'],
    [{ ...good, stacks: [] }, "Delivery: stacks is empty; list the platform's stacks."],
    [{ ...good, stacks: [{ ...stack, driftCron: "cron(0 6 * * ? *)" }] }, 'Delivery: staging.driftCron "cron(0 6 * * ? *)" is not a five-field cron expression such as "0 */4 * * *".'],
    [{ ...good, stacks: [{ ...stack, paths: [] }] }, "Delivery: staging.paths is empty; a push would deploy on any change (list components/**, Pulumi.staging.yaml, ...)."],
    [{ ...good, repository: "runbook-app" }, 'repository "runbook-app" is not owner/repo'],
  ])("rejects %j", (args, message) => {
    expect(() => validateDeliveryArgs(args)).toThrow(message);
  });
});
