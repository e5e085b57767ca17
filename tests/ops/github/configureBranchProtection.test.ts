import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { branchProtectionArgs } from "../../../components/repository";
import { applyBranchProtection, main, managingStack, repositorySettings } from "../../../ops/github/configureBranchProtection";
import { protectionSpec, restRequestBody } from "../../../ops/github/protectionSpec";
import type { CliIo } from "../../../ops/lib/cli";
import { runChild } from "../../support/spawn";

/** A throwaway stand-in for api.github.com that records each request and answers as configured. */
interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}
let server: Server;
let apiUrl: string;
let requests: Recorded[] = [];
/** The fake's reply: `body` is sent as JSON, or as is when a string; `headers` add to or replace the JSON content type. */
let answer: (body: unknown) => { status: number; body: unknown; delayMs?: number; headers?: Record<string, string> };

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const body: unknown = text ? JSON.parse(text) : undefined;
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const reply = answer(body);
      setTimeout(() => {
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
        res.end(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests = [];
  answer = (body) => {
    const sent = body as ReturnType<typeof restRequestBody>;
    return {
      status: 200,
      body: {
        required_pull_request_reviews: { required_approving_review_count: sent.required_pull_request_reviews.required_approving_review_count },
        required_status_checks: { strict: true, checks: sent.required_status_checks.checks },
        enforce_admins: { enabled: true },
      },
    };
  };
});

/** Collects what a command writes, stdout and stderr apart. */
function capture(): { io: CliIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }, stdout: () => out.join(""), stderr: () => err.join("") };
}

/** The URL of a port nothing listens on: one the system just handed out and that was closed again. */
async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

interface JsonReport {
  command: string;
  exitCode: number;
  results: { check: string; status: string; detail: string }[];
}

const TOKEN = "github_pat_0123456789abcdefghijklmnopqrstuvwxyz";
const production = repositorySettings("production");
const spec = protectionSpec({ requiredApprovals: production.requiredApprovals ?? 0, requiredChecks: production.requiredChecks ?? [] });

describe("npm run ops:configure-branch-protection", () => {
  it("applies the production stack's settings: it is the stack that manages protection", () => {
    expect(managingStack(["staging", "production"])).toBe("production");
    expect(spec.requiredApprovals).toBe(2);
    expect(spec.requiredChecks).toEqual(["ci", "policy-preview"]);
  });

  it("sends exactly one PUT with the spec, the token and GitHub's API version", async () => {
    const results = await applyBranchProtection({ token: TOKEN, repository: "acme/runbook-app", spec, apiUrl });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.method).toBe("PUT");
    expect(request?.url).toBe("/repos/acme/runbook-app/branches/main/protection");
    expect(request?.headers.authorization).toBe(`token ${TOKEN}`);
    expect(request?.headers.accept).toBe("application/vnd.github+json");
    expect(request?.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(request?.body).toEqual({
      required_status_checks: { strict: true, checks: [{ context: "ci" }, { context: "policy-preview" }] },
      enforce_admins: true,
      required_pull_request_reviews: { dismiss_stale_reviews: true, require_code_owner_reviews: true, required_approving_review_count: 2, require_last_push_approval: true },
      restrictions: null,
      required_linear_history: true,
      allow_force_pushes: false,
      allow_deletions: false,
      required_conversation_resolution: true,
    });
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["PUT protection of acme/runbook-app@main", "pass"],
      ["GitHub reports the protection as applied", "pass"],
    ]);
  });

  it("sends what the repository component declares: one spec, both paths", () => {
    const rest = restRequestBody(spec);
    const pulumiArgs = branchProtectionArgs("runbook-app", spec);
    const reviews = pulumiArgs.requiredPullRequestReviews as { requiredApprovingReviewCount: number; dismissStaleReviews: boolean; requireCodeOwnerReviews: boolean; requireLastPushApproval: boolean }[];
    const checks = pulumiArgs.requiredStatusChecks as { strict: boolean; contexts: string[] }[];
    expect({
      approvals: rest.required_pull_request_reviews.required_approving_review_count,
      dismissStale: rest.required_pull_request_reviews.dismiss_stale_reviews,
      codeOwners: rest.required_pull_request_reviews.require_code_owner_reviews,
      lastPush: rest.required_pull_request_reviews.require_last_push_approval,
      checks: rest.required_status_checks.checks.map((c) => c.context),
      strict: rest.required_status_checks.strict,
      admins: rest.enforce_admins,
      linear: rest.required_linear_history,
      conversations: rest.required_conversation_resolution,
      forcePushes: rest.allow_force_pushes,
      deletions: rest.allow_deletions,
    }).toEqual({
      approvals: reviews[0]?.requiredApprovingReviewCount,
      dismissStale: reviews[0]?.dismissStaleReviews,
      codeOwners: reviews[0]?.requireCodeOwnerReviews,
      lastPush: reviews[0]?.requireLastPushApproval,
      checks: checks[0]?.contexts,
      strict: checks[0]?.strict,
      admins: pulumiArgs.enforceAdmins,
      linear: pulumiArgs.requiredLinearHistory,
      conversations: pulumiArgs.requireConversationResolution,
      forcePushes: pulumiArgs.allowsForcePushes,
      deletions: pulumiArgs.allowsDeletions,
    });
  });

  it("fails with GitHub's message and a hint on 403, without printing the token", async () => {
    answer = () => ({ status: 403, body: { message: "Resource not accessible by personal access token" } });
    const { io, stdout, stderr } = capture();
    const code = await main(["--api-url", apiUrl, "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io);
    expect(code).toBe(1);
    expect(stderr()).toBe("");
    const output = stdout();
    expect((JSON.parse(output) as { results: { status: string; detail: string }[] }).results.map((r) => [r.status, r.detail])).toEqual([
      ["fail", "HTTP 403: Resource not accessible by personal access token (the token lacks the Administration: write permission on the repository (runbook step 1))"],
    ]);
    expect(output).not.toContain(TOKEN);
  });

  it("fails the verification row when GitHub answers with different settings", async () => {
    answer = () => ({ status: 200, body: { required_pull_request_reviews: { required_approving_review_count: 1 }, required_status_checks: { checks: [{ context: "ci" }] }, enforce_admins: { enabled: false } } });
    const results = await applyBranchProtection({ token: TOKEN, repository: "acme/runbook-app", spec, apiUrl });
    expect(results[1]).toEqual({
      check: "GitHub reports the protection as applied",
      status: "fail",
      detail: "required approvals 1 (expected 2); missing checks policy-preview; admins not included",
    });
  });

  it("gives up after the timeout instead of hanging: incomplete (exit 3), GitHub may still apply it", async () => {
    answer = () => ({ status: 200, body: {}, delayMs: 2_000 });
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", apiUrl, "--timeout-ms", "100", "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io)).toBe(3);
    expect(stderr()).toBe("");
    const report = JSON.parse(stdout()) as JsonReport;
    expect(report.exitCode).toBe(3);
    expect(report.results.map((r) => [r.status, r.detail])).toEqual([
      [
        "skip",
        `GitHub API at ${apiUrl} did not answer within 100 ms: it is overloaded, hung, or a firewall drops the traffic. GitHub may still apply the protection: run the command again (it is idempotent), with a larger --timeout-ms if the network is slow.`,
      ],
    ]);
    expect(requests).toHaveLength(1);
  });

  it("names the API URL, the cause and the fix when nothing listens there: incomplete (exit 3)", async () => {
    const closed = await closedPortUrl();
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", closed, "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io)).toBe(3);
    expect(stderr()).toBe("");
    expect((JSON.parse(stdout()) as JsonReport).results.map((r) => [r.check, r.status, r.detail])).toEqual([
      [
        "PUT protection of acme/runbook-app@main",
        "skip",
        `GitHub API at ${closed} refused the connection (ECONNREFUSED): is it running, and is the URL's host and port right? The URL is --api-url (or GITHUB_API_URL; default https://api.github.com): check it and this machine's network access to it (DNS, proxy, firewall).`,
      ],
    ]);
  });

  it("through npm, an unreachable API still prints one JSON document and nothing else, without the token", async () => {
    const closed = await closedPortUrl();
    const run = await runChild("npm", ["run", "-s", "ops:configure-branch-protection", "--", "--json"], {
      ...process.env,
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: "acme/runbook-app",
      GITHUB_API_URL: closed,
    });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 3, stderr: "" });
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report).toMatchObject({ command: "ops:configure-branch-protection", exitCode: 3 });
    expect(report.results[0]?.detail).toContain(`${closed} refused the connection (ECONNREFUSED)`);
    expect(run.stdout).not.toContain(TOKEN);
  }, 60_000);

  it.each([
    ["api.github.com", "is not a URL; pass the API's address, such as"],
    ["ftp://api.github.com", 'must be an http(s) URL with a host (got scheme "ftp"); pass one such as'],
  ])("refuses --api-url %s as bad usage (exit 2) before any request", async (url, why) => {
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", url], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io)).toBe(2);
    expect(stderr()).toBe(`ops:configure-branch-protection: --api-url (or GITHUB_API_URL) ${why} https://api.github.com or https://<host>/api/v3 (GitHub Enterprise)\n`);
    expect(stdout()).toBe("");
  });

  it("refuses credentials in --api-url without printing them, and an unbounded --timeout-ms (exit 2)", async () => {
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", "https://u:s3cr3tPW@github.example.com/api/v3", "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io)).toBe(2);
    expect(JSON.parse(stdout())).toMatchObject({ exitCode: 2, error: "--api-url (or GITHUB_API_URL) must not carry credentials (user:password@); secrets come from the environment" });
    expect(`${stdout()}${stderr()}`).not.toContain("s3cr3tPW");
    const huge = capture();
    expect(await main(["--timeout-ms", "99999999999"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, huge.io)).toBe(2);
    expect(huge.stderr()).toContain("a whole number of milliseconds from 100 to 120000");
    expect(requests).toEqual([]);
  });

  it("fails instead of reading settings out of an answer that is not JSON", async () => {
    answer = () => ({ status: 200, body: "<html>Sign in</html>", headers: { "content-type": "text/html" } });
    const [put, verify] = await applyBranchProtection({ token: TOKEN, repository: "acme/runbook-app", spec, apiUrl });
    expect(put).toMatchObject({ status: "fail", detail: `HTTP 200 without a JSON answer from ${apiUrl}: is --api-url GitHub's REST API (https://<host>/api/v3 on GitHub Enterprise)?` });
    expect(verify).toBeUndefined();
  });

  it("passes GitHub's deprecation notice to stderr, leaving stdout one JSON document", async () => {
    const answerOk = answer;
    answer = (body) => ({ ...answerOk(body), headers: { deprecation: "true", sunset: "2027-06-30" } });
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", apiUrl, "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io)).toBe(0);
    expect(stderr()).toContain("ops:configure-branch-protection: [@octokit/request] \"PUT http://127.0.0.1:");
    expect(stderr()).toContain("is deprecated. It is scheduled to be removed on 2027-06-30");
    expect((JSON.parse(stdout()) as JsonReport).exitCode).toBe(0);
  });

  it("prints JSON rows with --json", async () => {
    const { io, stdout } = capture();
    const code = await main(["--api-url", apiUrl, "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io);
    expect(code).toBe(0);
    const report = JSON.parse(stdout()) as { command: string; repository: string; stack: string; exitCode: number; results: { status: string }[] };
    expect(report).toMatchObject({ command: "ops:configure-branch-protection", repository: "acme/runbook-app", stack: "production", exitCode: 0 });
    expect(report.results.map((r) => r.status)).toEqual(["pass", "pass"]);
  });

  it.each([
    [{ GITHUB_REPOSITORY: "acme/runbook-app" }, "GITHUB_TOKEN is not set: export a fine-grained token with Administration write scope (runbook step 1).\n"],
    [{ GITHUB_TOKEN: TOKEN }, "GITHUB_REPOSITORY is not set: export it as <owner>/<repo>.\n"],
    [{ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "runbook-app" }, 'repository "runbook-app" is not owner/repo (set GITHUB_REPOSITORY or repository.fullName, such as acme/runbook-app).\n'],
  ])("exits 2 with a fixable message for %j, once, on stderr", async (env, message) => {
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", apiUrl], env, io)).toBe(2);
    expect(stderr()).toBe(`ops:configure-branch-protection: ${message}`);
    expect(stdout()).toBe("");
    expect(requests).toEqual([]);
  });

  it("prints its help with every flag and exits 0", async () => {
    const { io, stdout, stderr } = capture();
    expect(await main(["--help"], {}, io)).toBe(0);
    for (const flag of ["--stack", "--api-url", "--timeout-ms", "--json", "--help"]) expect(stdout()).toContain(flag);
    expect(stdout()).not.toContain("(outputHelp)");
    expect(stderr()).toBe("");
  });

  it("exits 2 on an unknown flag with a did-you-mean, and with --json still prints one JSON document", async () => {
    const { io, stdout, stderr } = capture();
    expect(await main(["--api-url", apiUrl, "--jsn"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, io)).toBe(2);
    expect(stderr()).toBe("error: unknown option '--jsn'\n(Did you mean --json?)\n");
    expect(stdout()).toBe("");
    const json = capture();
    expect(await main(["--timeout-ms", "soon", "--json"], { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/runbook-app" }, json.io)).toBe(2);
    expect(JSON.parse(json.stdout())).toEqual({
      command: "ops:configure-branch-protection",
      exitCode: 2,
      error: "option '--timeout-ms <ms>' argument 'soon' is invalid. a whole number of milliseconds from 100 to 120000",
    });
    expect(requests).toEqual([]);
  });
});
