import { InvalidArgumentError } from "commander";
import { CliError, createCommand, exitWhenDrained, processIo, runCommand, type CliIo } from "../lib/cli";
import { exitCodeFor, plural, renderTable, timed, type CheckResult } from "../lib/report";
import { PROJECT } from "../../runbook";
import { listStacks, projectSettings, ROOT } from "../../stackFiles";
import { parseRepository, protectionSpec, restRequestBody, type BranchProtectionSpec } from "./protectionSpec";

/**
 * The runbook's "Branch Protection Setup":
 * `GITHUB_TOKEN=<token> GITHUB_REPOSITORY=<owner>/<repo> npm run ops:configure-branch-protection`.
 * Applies the same protection as the repository component (ops/github/protectionSpec.ts), with the
 * approvals and checks of the stack that manages branch protection, through GitHub's REST API.
 */

export const DEFAULT_API_URL = "https://api.github.com";
export const DEFAULT_TIMEOUT_MS = 10_000;

interface RepositorySettings {
  manageBranchProtection?: boolean;
  requiredApprovals?: number;
  requiredChecks?: string[];
}

/** The `repository` section of a stack file, read without the Pulumi SDK. */
export function repositorySettings(stack: string, root = ROOT): RepositorySettings {
  const section = projectSettings(stack, root).repository;
  if (typeof section !== "object" || section === null) throw new CliError(`Pulumi.${stack}.yaml has no ${PROJECT}:repository section; add it (see the README's config table) or pass --stack.`);
  return section as RepositorySettings;
}

/** The stack whose settings the CLI applies: the one that manages branch protection with Pulumi. */
export function managingStack(stacks: readonly string[], root = ROOT): string {
  const managing = stacks.filter((s) => repositorySettings(s, root).manageBranchProtection === true);
  if (managing.length !== 1) {
    throw new CliError(`expected exactly one stack with repository.manageBranchProtection: true, found ${managing.length} (${managing.join(", ") || "none"}); pass --stack.`);
  }
  return managing[0] as string;
}

export interface ApplyOptions {
  token: string;
  repository: string;
  spec: BranchProtectionSpec;
  /** @default https://api.github.com (GITHUB_API_URL) */
  apiUrl?: string;
  /** @default 10000 */
  timeoutMs?: number;
}

interface ProtectionResponse {
  required_pull_request_reviews?: { required_approving_review_count?: number };
  required_status_checks?: { checks?: { context: string }[]; contexts?: string[] };
  enforce_admins?: { enabled?: boolean };
  message?: string;
}

function hintFor(status: number): string {
  if (status === 401) return "the token was rejected; create a fine-grained token (runbook step 1)";
  if (status === 403) return "the token lacks the Administration: write permission on the repository (runbook step 1)";
  if (status === 404) return "repository or branch not found, or the token cannot see the repository";
  if (status === 422) return "GitHub rejected the settings (a required check name, or a plan without branch protection)";
  return "GitHub API error";
}

/** PUTs the protection and verifies what GitHub answers; one report row per step. */
export async function applyBranchProtection(options: ApplyOptions): Promise<CheckResult[]> {
  const { owner, repo } = parseRepository(options.repository);
  const { spec } = options;
  const apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const url = `${apiUrl}/repos/${owner}/${repo}/branches/${encodeURIComponent(spec.branch)}/protection`;
  let answer: ProtectionResponse | undefined;
  const rows: CheckResult[] = [];
  rows.push(
    await timed(`PUT protection of ${owner}/${repo}@${spec.branch}`, async () => {
      const response = await fetch(url, {
        method: "PUT",
        headers: {
          accept: "application/vnd.github+json",
          authorization: `Bearer ${options.token}`,
          "content-type": "application/json",
          "x-github-api-version": "2022-11-28",
          "user-agent": "runbook-platform-ops",
        },
        body: JSON.stringify(restRequestBody(spec)),
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      const text = await response.text();
      const parsed = (text ? JSON.parse(text) : {}) as ProtectionResponse;
      if (!response.ok) {
        return { status: "fail", detail: `HTTP ${response.status}: ${parsed.message ?? "no message"} (${hintFor(response.status)})` };
      }
      answer = parsed;
      return {
        status: "pass",
        detail: `${plural(spec.requiredApprovals, "approving review")}, checks ${spec.requiredChecks.join(", ")}, stale reviews dismissed, code owners, last-push approval, admins included, linear history, conversations resolved, no force pushes or deletions`,
      };
    }),
  );
  if (answer) {
    const approvals = answer.required_pull_request_reviews?.required_approving_review_count;
    const checks = answer.required_status_checks?.checks?.map((c) => c.context) ?? answer.required_status_checks?.contexts ?? [];
    const missing = spec.requiredChecks.filter((c) => !checks.includes(c));
    const drift = [
      approvals !== spec.requiredApprovals ? `required approvals ${approvals ?? "none"} (expected ${spec.requiredApprovals})` : "",
      missing.length > 0 ? `missing checks ${missing.join(", ")}` : "",
      answer.enforce_admins?.enabled !== true ? "admins not included" : "",
    ].filter(Boolean);
    rows.push({
      check: "GitHub reports the protection as applied",
      status: drift.length === 0 ? "pass" : "fail",
      detail: drift.length === 0 ? "approvals, checks and admin enforcement match the spec" : drift.join("; "),
    });
  }
  return rows;
}

interface BranchProtectionCliOptions {
  stack?: string;
  apiUrl: string;
  timeoutMs: number;
  json?: boolean;
}

function positiveMs(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0) throw new InvalidArgumentError("a positive whole number of milliseconds, such as 10000");
  return ms;
}

/** The command: arguments and environment in, the report out; returns the exit code (never throws). */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo = processIo): Promise<number> {
  const program = createCommand(
    "ops:configure-branch-protection",
    "Protect main with the same settings as the repository component (GITHUB_TOKEN and GITHUB_REPOSITORY from the environment).",
    io,
  )
    .option("--stack <stack>", "stack file whose repository settings to apply (default: the stack with repository.manageBranchProtection: true)")
    .option("--api-url <url>", "GitHub API base URL (GitHub Enterprise: https://<host>/api/v3)", env.GITHUB_API_URL ?? DEFAULT_API_URL)
    .option("--timeout-ms <ms>", "request timeout in milliseconds", positiveMs, DEFAULT_TIMEOUT_MS)
    .option("--json", "print the results as one JSON document instead of a table");
  return runCommand<BranchProtectionCliOptions>(
    program,
    argv,
    async (opts) => {
      const problems = [
        env.GITHUB_TOKEN ? "" : "GITHUB_TOKEN is not set: export a fine-grained token with Administration write scope (runbook step 1).",
        env.GITHUB_REPOSITORY ? "" : "GITHUB_REPOSITORY is not set: export it as <owner>/<repo>.",
      ].filter(Boolean);
      if (problems.length > 0) throw new CliError(problems.join("\n"));
      const repository = env.GITHUB_REPOSITORY as string;
      parseRepository(repository);
      const stack = opts.stack ?? managingStack(listStacks());
      const settings = repositorySettings(stack);
      const spec = protectionSpec({ requiredApprovals: settings.requiredApprovals ?? 0, requiredChecks: settings.requiredChecks ?? [] });
      const results = await applyBranchProtection({ token: env.GITHUB_TOKEN as string, repository, spec, apiUrl: opts.apiUrl, timeoutMs: opts.timeoutMs });
      const exitCode = exitCodeFor(results);
      io.stdout(opts.json ? `${JSON.stringify({ command: program.name(), repository, stack, results, exitCode }, null, 2)}\n` : `${renderTable(results, "Branch protection")}\n`);
      return exitCode;
    },
    io,
  );
}

if (require.main === module) void main(process.argv.slice(2), process.env).then(exitWhenDrained);
