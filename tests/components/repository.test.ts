import { describe, expect, it } from "vitest";
import { branchProtectionArgs, validateRepositoryArgs } from "../../components/repository";
import { protectionSpec } from "../../ops/github/protectionSpec";
import { ofType, one, redactedInputs, runProgram } from "../support/harness";

const BRANCH_PROTECTION = "github:index/branchProtection:BranchProtection";

describe("Repository in the production stack (repository.manageBranchProtection: true)", () => {
  it("protects main of repository.fullName with 2 approvals and the required checks", async () => {
    const result = await runProgram({ stack: "production", secrets: { githubToken: "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" } });
    const protection = one(result, BRANCH_PROTECTION);
    expect(protection.name).toBe("repository-main");
    expect(protection.parentName).toBe("repository");
    expect(protection.inputs).toEqual({
      repositoryId: "runbook-app",
      pattern: "main",
      enforceAdmins: true,
      allowsForcePushes: false,
      allowsDeletions: false,
      requiredLinearHistory: true,
      requireConversationResolution: true,
      requiredStatusChecks: [{ strict: true, contexts: ["ci", "policy-preview"] }],
      requiredPullRequestReviews: [
        { requiredApprovingReviewCount: 2, dismissStaleReviews: true, requireCodeOwnerReviews: true, requireLastPushApproval: true },
      ],
    });
    const provider = one(result, "pulumi:providers:github");
    expect(provider.name).toBe("repository-github");
    expect(protection.provider?.startsWith(provider.urn)).toBe(true);
    expect(redactedInputs(provider)).toMatchObject({ owner: "acme", token: "[secret]" });
    expect(provider.secretPaths).toContain("token");
    expect(result.outputs.protectedBranch).toBe("main");
  });
  it("leaves the token to the GITHUB_TOKEN environment variable when no secret is set", async () => {
    const result = await runProgram({ stack: "production" });
    expect(one(result, "pulumi:providers:github").inputs).not.toHaveProperty("token");
  });
  it("names every child after the component", async () => {
    const result = await runProgram({ stack: "production" });
    const component = one(result, "runbook-platform:repository:Repository");
    const kids = result.resources.filter((r) => r.parent === component.urn).map((r) => r.name);
    expect(kids).toEqual(["repository-github", "repository-main"]);
    for (const child of kids) expect(child.startsWith(`${component.name}-`)).toBe(true);
  });
});

describe("Repository in the staging stack (repository.manageBranchProtection: false)", () => {
  it("manages no branch protection: one stack owns the rule, or the two would overwrite each other", async () => {
    const result = await runProgram({ stack: "staging" });
    expect(ofType(result, BRANCH_PROTECTION)).toEqual([]);
    expect(ofType(result, "runbook-platform:repository:Repository")).toEqual([]);
    expect(result.outputs).not.toHaveProperty("protectedBranch");
  });
  it("protects main with 1 approval when staging is told to manage it", async () => {
    const result = await runProgram({ stack: "staging", config: { repository: { manageBranchProtection: true } } });
    const reviews = one(result, BRANCH_PROTECTION).inputs.requiredPullRequestReviews as { requiredApprovingReviewCount: number }[];
    expect(reviews[0]?.requiredApprovingReviewCount).toBe(1);
  });
});

describe("validateRepositoryArgs", () => {
  const good = { fullName: "acme/runbook-app", requiredApprovals: 2, requiredChecks: ["ci"] };
  it("accepts good args and returns the spec", () => {
    expect(validateRepositoryArgs(good)).toEqual(protectionSpec({ requiredApprovals: 2, requiredChecks: ["ci"] }));
  });
  it.each([
    [{ ...good, fullName: "runbook-app" }, 'repository "runbook-app" is not owner/repo (set GITHUB_REPOSITORY or repository.fullName, such as acme/runbook-app).'],
    [{ ...good, requiredApprovals: 0 }, "repository.requiredApprovals is 0; use a whole number from 1 to 6 (GitHub's limit)."],
    [{ ...good, requiredApprovals: 7 }, "repository.requiredApprovals is 7; use a whole number from 1 to 6 (GitHub's limit)."],
    [{ ...good, requiredChecks: [] }, "repository.requiredChecks is empty or has a blank entry; list the required job names, such as ci and policy-preview."],
    [{ ...good, requiredChecks: ["ci", " "] }, "repository.requiredChecks is empty or has a blank entry; list the required job names, such as ci and policy-preview."],
  ])("rejects %j", (args, message) => {
    expect(() => validateRepositoryArgs(args)).toThrow(message);
  });
  it("maps every field of the spec to the provider's args", () => {
    const args = branchProtectionArgs("runbook-app", protectionSpec({ requiredApprovals: 1, requiredChecks: ["ci", "ci"] }));
    expect(args.requiredStatusChecks).toEqual([{ strict: true, contexts: ["ci"] }]);
    expect(args.pattern).toBe("main");
  });
});
