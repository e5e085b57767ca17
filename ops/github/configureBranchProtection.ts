import { Octokit, type RestEndpointMethodTypes } from "@octokit/rest";
import { CliError, createCommand, exitWhenDrained, processIo, runCommand, type CliIo } from "../lib/cli";
import { describeNetworkError, redactUrl } from "../incident/errors";
import { parseBaseUrl } from "../incident/http";
import { timeoutOption } from "../incident/options";
import { exitCodeFor, plural, renderTable, timed, type CheckResult } from "../lib/report";
import { PROJECT } from "../../runbook";
import { listStacks, projectSettings, ROOT } from "../../stackFiles";
import { parseRepository, protectionSpec, restRequestBody, type BranchProtectionSpec } from "./protectionSpec";

/**
 * The runbook's "Branch Protection Setup":
 * `GITHUB_TOKEN=<token> GITHUB_REPOSITORY=<owner>/<repo> npm run ops:configure-branch-protection`.
 * Applies the same protection as the repository component (ops/github/protectionSpec.ts), with the
 * approvals and checks of the stack that manages branch protection, through GitHub's REST API
 * (@octokit/rest).
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
  /** How long the PUT may take before it is cancelled, in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Receives octokit's warnings, such as GitHub announcing the endpoint's deprecation. @default ignored */
  onWarning?: (message: string) => void;
}

/** The REST API version the request body and the answer's shape follow. */
const GITHUB_API_VERSION = "2022-11-28";

/** GitHub's "Update branch protection" endpoint. */
const PROTECTION_ROUTE = "/repos/{owner}/{repo}/branches/{branch}/protection";

/** What GitHub answers to the PUT: the protection as it now stands. */
type ProtectedBranch = RestEndpointMethodTypes["repos"]["updateBranchProtection"]["response"]["data"];

/** octokit's RequestError (@octokit/request-error) when GitHub answered: `name` "HttpError", with the answer in `response`. */
interface GitHubAnswerError extends Error {
  status: number;
  response: { status: number };
}

function isGitHubAnswer(error: unknown): error is GitHubAnswerError {
  return error instanceof Error && error.name === "HttpError" && typeof (error as Partial<GitHubAnswerError>).response?.status === "number";
}

function hintFor(status: number): string {
  if (status === 401) return "the token was rejected; create a fine-grained token (runbook step 1)";
  if (status === 403) return "the token lacks the Administration: write permission on the repository (runbook step 1)";
  if (status === 404) return "repository or branch not found, or the token cannot see the repository";
  if (status === 422) return "GitHub rejected the settings (a required check name, or a plan without branch protection)";
  return "GitHub API error";
}

/**
 * Why the PUT got no answer, naming the API URL (without credentials) and what to check. octokit
 * wraps fetch's failure in a RequestError without `response` whose `cause` is fetch's error (itself
 * caused by the socket's, e.g. ECONNREFUSED), or the abort reason when the timeout fired.
 */
function noAnswer(error: unknown, apiUrl: string, timeoutMs: number, timedOut: boolean): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const described = describeNetworkError(cause, "GitHub API", redactUrl(apiUrl), timeoutMs);
  const what = /[.?!]$/.test(described) ? described : `${described}.`;
  return timedOut
    ? `${what} GitHub may still apply the protection: run the command again (it is idempotent), with a larger --timeout-ms if the network is slow.`
    : `${what} The URL is --api-url (or GITHUB_API_URL; default ${DEFAULT_API_URL}): check it and this machine's network access to it (DNS, proxy, firewall).`;
}

/**
 * PUTs the protection through GitHub's REST API (@octokit/rest) and verifies what GitHub answers.
 * Returns one row per step: the PUT (`fail` when GitHub refused it, with GitHub's message and a
 * hint; `skip`, so exit 3, when GitHub could not be reached or did not answer within `timeoutMs`),
 * then, when the PUT succeeded, whether the answer matches the spec. Never prints the token.
 * @throws when `repository` is not `owner/repo`
 */
export async function applyBranchProtection(options: ApplyOptions): Promise<CheckResult[]> {
  const { owner, repo } = parseRepository(options.repository);
  const { spec } = options;
  const apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ignore = () => undefined;
  // Failed requests are reported in the rows; octokit would also print them with console.error, and
  // its warnings with console.warn. The client's log serves its plugins, the request's log @octokit/request.
  const log = { debug: ignore, info: ignore, warn: options.onWarning ?? ignore, error: ignore };
  const octokit = new Octokit({ auth: options.token, baseUrl: apiUrl, userAgent: "runbook-platform-ops", log });
  let answer: ProtectedBranch | undefined;
  const rows: CheckResult[] = [];
  rows.push(
    await timed(`PUT protection of ${owner}/${repo}@${spec.branch}`, async () => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        // The route rather than `octokit.rest.repos.updateBranchProtection`: GitHub's OpenAPI description,
        // which types that method, requires the deprecated `contexts`, and the API refuses a body with
        // both `contexts` and `checks` (google/go-github#2276). The body sends `checks` only.
        const response = await octokit.request<ProtectedBranch>({
          method: "PUT",
          url: PROTECTION_ROUTE,
          owner,
          repo,
          branch: spec.branch,
          headers: { accept: "application/vnd.github+json", "x-github-api-version": GITHUB_API_VERSION },
          request: { signal, log },
          ...restRequestBody(spec),
        });
        if (typeof response.data !== "object" || response.data === null) {
          return { status: "fail", detail: `HTTP ${response.status} without a JSON answer from ${redactUrl(apiUrl)}: is --api-url GitHub's REST API (https://<host>/api/v3 on GitHub Enterprise)?` };
        }
        answer = response.data;
      } catch (error) {
        if (isGitHubAnswer(error)) return { status: "fail", detail: `HTTP ${error.status}: ${error.message || "no message"} (${hintFor(error.status)})` };
        return { status: "skip", detail: noAnswer(error, apiUrl, timeoutMs, signal.aborted) };
      }
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

/**
 * The GitHub API base URL from --api-url or GITHUB_API_URL, checked before anything connects by the
 * shared base-URL rule (ops/incident/http.ts), never echoing the value.
 * @throws CliError (exit 2)
 */
function apiBaseUrl(value: string): string {
  try {
    return parseBaseUrl(value, "--api-url (or GITHUB_API_URL)", `${DEFAULT_API_URL} or https://<host>/api/v3 (GitHub Enterprise)`);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
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
    .option("--timeout-ms <ms>", "request timeout in milliseconds (100 to 120000)", timeoutOption, DEFAULT_TIMEOUT_MS)
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
      const apiUrl = apiBaseUrl(opts.apiUrl);
      const stack = opts.stack ?? managingStack(listStacks());
      const settings = repositorySettings(stack);
      const spec = protectionSpec({ requiredApprovals: settings.requiredApprovals ?? 0, requiredChecks: settings.requiredChecks ?? [] });
      const results = await applyBranchProtection({
        token: env.GITHUB_TOKEN as string,
        repository,
        spec,
        apiUrl,
        timeoutMs: opts.timeoutMs,
        onWarning: (message) => io.stderr(`${program.name()}: ${message}\n`),
      });
      const exitCode = exitCodeFor(results);
      io.stdout(opts.json ? `${JSON.stringify({ command: program.name(), repository, stack, results, exitCode }, null, 2)}\n` : `${renderTable(results, "Branch protection")}\n`);
      return exitCode;
    },
    io,
  );
}

if (require.main === module) void main(process.argv.slice(2), process.env).then(exitWhenDrained);
