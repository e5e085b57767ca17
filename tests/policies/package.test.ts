import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROTECTED_BRANCH } from "../../ops/github/protectionSpec";
import { RUNBOOK_POLICIES } from "../../policies/all";
import * as packNumbers from "../../policies/lib/runbook";
import * as runbook from "../../runbook";
import { GENERATED_FILE, renderPolicyNumbers } from "../../scripts/policy-numbers";
import { ROOT } from "../support/harness";

/**
 * `pulumi policy publish policies` uploads policies/ alone: the pack must need nothing outside it.
 * Proven three ways: its runbook numbers are the program's, no import leaves the directory, and the
 * packed tarball, installed with production dependencies only in an empty directory, loads and lists
 * every policy (without constructing PolicyPack, which starts CrossGuard's gRPC server).
 */

const POLICIES = path.join(ROOT, "policies");
const packPackage = JSON.parse(readFileSync(path.join(POLICIES, "package.json"), "utf8")) as { name: string; version: string; dependencies: Record<string, string> };

describe("the pack's runbook numbers", () => {
  it("are the values runbook.ts and protectionSpec.ts hold (npm run policies:sync writes them)", () => {
    expect(readFileSync(GENERATED_FILE, "utf8"), "run npm run policies:sync and commit policies/lib/runbook.ts").toBe(renderPolicyNumbers());
    expect(packNumbers.RUNBOOK_ALARMS).toEqual(runbook.RUNBOOK_ALARMS);
    expect(packNumbers.MIN_BACKUP_RETENTION_DAYS).toEqual(runbook.MIN_BACKUP_RETENTION_DAYS);
    expect(packNumbers.MAX_BACKUP_RETENTION_DAYS).toBe(runbook.MAX_BACKUP_RETENTION_DAYS);
    expect(packNumbers.ENVIRONMENTS).toEqual(runbook.ENVIRONMENTS);
    expect(packNumbers.REPLAY_SAFE_MAXMEMORY_POLICIES).toEqual(runbook.REPLAY_SAFE_MAXMEMORY_POLICIES);
    expect(packNumbers.HEALTH_PATHS).toEqual(runbook.HEALTH_PATHS);
    expect(packNumbers.PROTECTED_BRANCH).toBe(PROTECTED_BRANCH);
  });
});

describe("the pack's imports", () => {
  it("stay inside policies/ or name a dependency of policies/package.json", () => {
    const outside: string[] = [];
    const files = readdirSync(POLICIES, { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
    for (const file of files) {
      const source = readFileSync(path.join(POLICIES, file), "utf8");
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        if (specifier === undefined) continue;
        if (specifier.startsWith(".")) {
          const target = path.resolve(POLICIES, path.dirname(file), specifier);
          if (!target.startsWith(`${POLICIES}${path.sep}`)) outside.push(`${file}: ${specifier}`);
          continue;
        }
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : (specifier.split("/")[0] as string);
        if (!(name in packPackage.dependencies) && !builtinModules.includes(name.replace(/^node:/, ""))) outside.push(`${file}: ${specifier}`);
      }
    }
    expect(files.length).toBeGreaterThan(20);
    expect(outside).toEqual([]);
  });
});

describe("the packed pack", () => {
  const work = mkdtempSync(path.join(tmpdir(), "policy-pack-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("installs in an empty directory with production dependencies only, loads, and lists every policy", () => {
    const npm = (args: string[], cwd: string) => execFileSync("npm", [...args, "--no-audit", "--no-fund"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    npm(["pack", "--pack-destination", work], POLICIES);
    const tarball = `${packPackage.name}-${packPackage.version}.tgz`;
    const app = path.join(work, "app");
    execFileSync("mkdir", [app]);
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "empty", private: true }));
    npm(["install", "--omit=dev", "--prefer-offline", path.join(work, tarball)], app);

    const installed = path.join(app, "node_modules", packPackage.name);
    expect(readdirSync(installed).sort()).toEqual(expect.arrayContaining(["PulumiPolicy.yaml", "all.ts", "index.ts", "lib", "package.json", "tsconfig.json"]));
    // Transpiled by tsx from outside; every module it resolves comes from the installed tree.
    const loader = path.join(ROOT, "node_modules", "tsx", "dist", "loader.mjs");
    const script = `const { RUNBOOK_POLICIES } = require(${JSON.stringify(path.join(installed, "all.ts"))}); process.stdout.write(JSON.stringify(RUNBOOK_POLICIES.map((p) => p.name)));`;
    const names = JSON.parse(execFileSync(process.execPath, ["--import", loader, "-e", script], { cwd: app, encoding: "utf8" })) as string[];
    expect(names).toEqual(RUNBOOK_POLICIES.map((p) => p.name));
  }, 600_000);
});
