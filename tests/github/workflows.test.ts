import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { PROJECT } from "../../config";
import { SMOKE_RECORD_PREFIX } from "../../ops/promotion/artifact";
import { STACKS } from "../../runbook";
import { readStackFile } from "../support/harness";

const DIR = path.resolve(__dirname, "../../.github/workflows");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  name?: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { name?: string; needs?: string | string[]; steps?: Step[]; strategy?: { matrix?: Record<string, unknown> } }>;
}
const workflow = (file: string) => parseYaml(readFileSync(path.join(DIR, file), "utf8")) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);

describe("GitHub Actions workflows", () => {
  it("include ci, policy and the runbook's staging-smoke", () => {
    expect(files).toEqual(expect.arrayContaining(["ci.yml", "policy.yml", "staging-smoke.yml"]));
  });

  it.each(files)("%s validates against the GitHub Actions workflow schema", (file) => {
    const state = validateWorkflow(readFileSync(path.join(DIR, file), "utf8"));
    expect(state.errors).toEqual([]);
  });

  it("ci runs on every pull request and push to main: npm ci, npm test and the offline preview of both stacks", () => {
    const ci = workflow("ci.yml");
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci.on.push).toEqual({ branches: ["main"] });
    const runs = steps(ci).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(expect.arrayContaining(["npm ci", "npm test", "npm start -- --stack staging", "npm -s start -- --stack production --json > production-plan.json"]));
    expect(runs.indexOf("npm ci")).toBeLessThan(runs.indexOf("npm test"));
  });

  it("policy previews every stack with the pack through the official Pulumi action, AWS by OIDC", () => {
    const policy = workflow("policy.yml");
    expect(policy.permissions?.["id-token"]).toBe("write");
    expect(policy.jobs.preview?.strategy?.matrix?.stack).toEqual([...STACKS]);
    const pulumiStep = steps(policy).find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumiStep?.with).toMatchObject({ command: "preview", policyPacks: "policies", "stack-name": `acme/${PROJECT}/\${{ matrix.stack }}` });
    const aws = steps(policy).find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(aws?.with).toHaveProperty("role-to-assume");
    expect(aws?.with).not.toHaveProperty("aws-access-key-id");
  });

  it("has a job for every required status check of every stack (repository.requiredChecks)", () => {
    const jobNames = new Set(files.flatMap((f) => Object.entries(workflow(f).jobs).map(([id, job]) => job.name ?? id)));
    for (const stack of STACKS) {
      const checks = (readStackFile(stack)[`${PROJECT}:repository`] as { requiredChecks: string[] }).requiredChecks;
      expect(checks.length, `${stack}: repository.requiredChecks`).toBeGreaterThan(0);
      for (const check of checks) expect(jobNames, `${stack}: ${check}`).toContain(check);
    }
  });
});

describe("staging-smoke records what passed, for production's preview", () => {
  const smoke = workflow("staging-smoke.yml");
  const all = steps(smoke);
  const index = (name: string) => all.findIndex((s) => (s as { name?: string }).name === name);

  it("writes the record only after the checks pass, under the key the staging program lists", () => {
    const record = all[index("Record the artifact that passed")] as Step & { if?: string };
    expect(index("npm run ops:staging-smoke")).toBeLessThan(index("Record the artifact that passed"));
    expect(record.if).toBe("success() && env.IMAGE_REF != ''");
    expect(record.run).toContain(`key="${SMOKE_RECORD_PREFIX}$hex.json"`);
    expect(smoke.permissions?.["id-token"]).toBe("write");
  });

  it("re-exports staging's verified list only for a new record, so a redeploy cannot loop", () => {
    const update = all[index("Export the new record (staging update)")] as Step & { if?: string };
    expect(update.if).toBe("steps.record.outputs.new == 'true'");
    expect(update.run).toBe('pulumi deployment run update --stack "$STAGING_STACK"');
  });
});
