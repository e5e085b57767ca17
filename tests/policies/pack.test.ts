import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { POLICY_PACK_NAME, RUNBOOK_POLICIES } from "../../policies/all";
import { isStackPolicy } from "../../policies/lib/policy";

const POLICIES_DIR = path.resolve(__dirname, "../../policies");
const rootPackage = JSON.parse(readFileSync(path.resolve(__dirname, "../../package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const packPackage = JSON.parse(readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8")) as { version: string; main: string; dependencies: Record<string, string> };

/** Every rule module's exported policies (anything with a name and a validate function). */
async function exportedPolicies(): Promise<{ file: string; name: string }[]> {
  const files = readdirSync(POLICIES_DIR, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts") && !f.startsWith("lib") && !["index.ts", "all.ts", "evaluate.ts"].includes(f));
  const found: { file: string; name: string }[] = [];
  for (const file of files) {
    const mod = (await import(path.join(POLICIES_DIR, file))) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      const policy = value as { name?: unknown; validateResource?: unknown; validateStack?: unknown };
      if (typeof policy === "object" && policy !== null && typeof policy.name === "string" && (policy.validateResource || policy.validateStack)) {
        found.push({ file, name: policy.name });
      }
    }
  }
  return found;
}

describe("the policy pack", () => {
  it("registers every policy a rule module exports, once", async () => {
    const registered = RUNBOOK_POLICIES.map((p) => p.name);
    expect(new Set(registered).size).toBe(registered.length);
    expect((await exportedPolicies()).map((p) => p.name).sort()).toEqual([...registered].sort());
  });
  it("gives every policy a description, a severity, a runbook line and a remediation hint", () => {
    for (const policy of RUNBOOK_POLICIES) {
      expect(policy.name, policy.name).toMatch(/^[a-z0-9-]+$/);
      expect(policy.description.length, policy.name).toBeGreaterThan(10);
      expect(policy.severity, policy.name).toMatch(/^(low|medium|high|critical)$/);
      expect(policy.runbookLine.length, policy.name).toBeGreaterThan(5);
      expect(policy.remediationSteps?.length ?? 0, policy.name).toBeGreaterThan(10);
      expect(Object.keys(policy.configSchema?.properties ?? {}), policy.name).not.toContain("enforcementLevel");
    }
    expect(RUNBOOK_POLICIES.filter(isStackPolicy).map((p) => p.name)).toEqual([
      "aws-rds-instance-daily-backup-plan",
      "aws-s3-bucket-public-access-blocked",
      "aws-s3-bucket-encrypted",
      "aws-s3-bucket-tls-only",
      "aws-elasticache-replication-group-non-evicting",
      "aws-ec2-security-group-data-tier-within-vpc",
      "aws-cloudwatch-runbook-alarms",
      "kubernetes-namespace-default-deny",
      "github-branch-protection-main-present",
    ]);
  });
  it("pins the same SDK versions as the program", () => {
    const root = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
    for (const [name, version] of Object.entries(packPackage.dependencies)) expect(`${name}@${version}`).toBe(`${name}@${root[name]}`);
    expect(packPackage.main).toBe("index.ts");
    expect(parseYaml(readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8"))).toMatchObject({ runtime: "nodejs" });
  });
  it("starts CrossGuard's analyzer server as `pulumi preview --policy-pack policies` would", async () => {
    // The Pulumi CLI runs the pack in its own directory and reads the port it prints.
    const child = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: POLICIES_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
        child.on("exit", (code) => reject(new Error(`the pack exited with ${code}: ${stderr}`)));
      });
      expect(port).toMatch(/^\d{2,5}$/);
    } finally {
      child.kill();
    }
    expect(POLICY_PACK_NAME).toMatch(/^[a-zA-Z0-9-_.]{1,100}$/);
  });
});
