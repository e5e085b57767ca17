import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, stagingArtifact } from "../support/harness";

/**
 * `npm run promote` as the README runs it, through npm, on a copy of Pulumi.production.yaml. Staging
 * is read through a stand-in `pulumi` executable on PATH that prints what `pulumi stack output --json`
 * prints and records the arguments it was called with.
 */

const REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api";
const digest = (hex: string) => `${REPOSITORY}@sha256:${hex.repeat(64 / hex.length)}`;
const work = mkdtempSync(path.join(tmpdir(), "promote-"));
const bin = path.join(work, "bin");
mkdirSync(bin);
const fakePulumi = path.join(bin, "pulumi");
writeFileSync(
  fakePulumi,
  `#!${process.execPath}\nrequire("node:fs").writeFileSync(process.env.PULUMI_ARGS_FILE, JSON.stringify(process.argv.slice(2)));\nif (process.env.PULUMI_FAIL) { process.stderr.write("error: no stack named 'staging' found\\n"); process.exit(255); }\nprocess.stdout.write(process.env.PULUMI_OUTPUTS);\n`,
);
chmodSync(fakePulumi, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));

let runs = 0;
/** `file`: the stack file's bytes to start from (default: Pulumi.production.yaml as it is). */
function promote(args: string[], env: { outputs?: Record<string, unknown>; fail?: boolean; withPulumi?: boolean; file?: Buffer } = {}) {
  const file = path.join(work, `Pulumi.production.${++runs}.yaml`);
  if (env.file) writeFileSync(file, env.file);
  else copyFileSync(path.join(ROOT, "Pulumi.production.yaml"), file);
  const argsFile = path.join(work, `args.${runs}.json`);
  const nodeDir = path.dirname(process.execPath);
  const run = spawnSync("npm", ["run", "-s", "promote", "--", "--file", file, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: env.withPulumi === false ? nodeDir : `${bin}${path.delimiter}${nodeDir}`,
      PULUMI_OUTPUTS: JSON.stringify(env.outputs ?? {}),
      PULUMI_ARGS_FILE: argsFile,
      ...(env.fail ? { PULUMI_FAIL: "1" } : {}),
    },
  });
  const pulumiArgs = (() => {
    try {
      return JSON.parse(readFileSync(argsFile, "utf8")) as string[];
    } catch {
      return undefined;
    }
  })();
  return { ...run, file, after: readFileSync(file, "utf8"), pulumiArgs };
}

/** The lines of `after` that differ from Pulumi.production.yaml, as [before, after] pairs. */
function changedLines(after: string): [string | undefined, string | undefined][] {
  const before = readFileSync(path.join(ROOT, "Pulumi.production.yaml"), "utf8").split("\n");
  const lines = after.split("\n");
  return Array.from({ length: Math.max(before.length, lines.length) }, (_, i) => [before[i], lines[i]] as [string | undefined, string | undefined]).filter(([a, b]) => a !== b);
}

describe("npm run promote", () => {
  it("writes the artifact staging runs and verified as the one changed line of the stack file, comments kept", () => {
    const next = digest("ab");
    const run = promote([], { outputs: { imageRef: next, verifiedImageRefs: [stagingArtifact(), next] } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.pulumiArgs).toEqual(["stack", "output", "--json", "--stack", "acme/runbook-platform/staging"]);
    expect(changedLines(run.after)).toEqual([[`    ref: ${stagingArtifact()}`, `    ref: ${next}`]]);
    expect(run.stdout).toContain(`Staging (acme/runbook-platform/staging) passed its smoke checks with it.`);
    expect(run.stdout).toContain('git commit -am "promote abababababab to production"');
  });

  it("refuses an artifact staging has not passed its smoke checks with (exit 1), and leaves the file alone", () => {
    const run = promote([], { outputs: { imageRef: digest("cd"), verifiedImageRefs: [stagingArtifact()] } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `promote: ${digest("cd")} has not passed staging's smoke checks: stack acme/runbook-platform/staging's verifiedImageRefs does not list it. Run the staging-smoke workflow on it first, or pass --rollback for a deliberate rollback.\n`,
    );
    expect(changedLines(run.after)).toEqual([]);
  });

  it("writes a deliberate rollback with its named setting, which the preview reads", () => {
    const previous = digest("9e");
    const run = promote(["--digest", previous, "--rollback"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.after).toContain("    verifiedBy: acme/runbook-platform/staging\n    rollback: true\n");
    expect(changedLines(run.after.replace("    rollback: true\n", ""))).toEqual([[`    ref: ${stagingArtifact()}`, `    ref: ${previous}`]]);
  });

  it("promotes offline with --digest, without the Pulumi CLI, and says the preview checks it", () => {
    const next = digest("ef");
    const run = promote(["--digest", next], { withPulumi: false });
    expect(run.status, run.stderr).toBe(0);
    expect(changedLines(run.after)).toEqual([[`    ref: ${stagingArtifact()}`, `    ref: ${next}`]]);
    expect(run.stdout).toContain("Not checked against staging's smoke records here: production's preview checks it");
  });

  it("prints one JSON document with --json, in success and in failure", () => {
    const ok = promote(["--digest", digest("ef"), "--json"], { withPulumi: false });
    expect(JSON.parse(ok.stdout)).toEqual({ file: ok.file, previous: stagingArtifact(), ref: digest("ef"), changed: true, rollback: false, source: "--digest", verified: "unchecked" });
    const bad = promote(["--digest", `${REPOSITORY}:v1.2.3`, "--json"], { withPulumi: false });
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({ command: "promote", exitCode: 2, error: expect.stringContaining("which is not pinned by digest") });
  });

  it("refuses --digest together with --from (exit 2) and leaves the file alone", () => {
    const run = promote(["--digest", digest("ef"), "--from", "acme/runbook-platform/bogus"], { withPulumi: false });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--digest and --from name the artifact two ways");
    expect(changedLines(run.after)).toEqual([]);
  });

  it("says nothing changed when production already pins the artifact", () => {
    const run = promote(["--digest", stagingArtifact()], { withPulumi: false });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${path.basename(run.file)} already pins ${stagingArtifact()}; nothing to change.\n`);
  });

  it("keeps a Windows-edited file's CRLF line endings and byte-order mark: still one changed line", () => {
    const original = readFileSync(path.join(ROOT, "Pulumi.production.yaml"), "utf8");
    const edited = `\uFEFF${original.replace(/\n/g, "\r\n")}`;
    const next = digest("ab");
    const run = promote(["--digest", next], { withPulumi: false, file: Buffer.from(edited, "utf8") });
    expect(run.status, run.stderr).toBe(0);
    expect(run.after.startsWith("\uFEFF")).toBe(true);
    const before = edited.split("\r\n");
    const after = run.after.split("\r\n");
    expect(after).toHaveLength(before.length);
    expect(before.filter((line, i) => line !== after[i])).toEqual([before.find((line) => line.startsWith("    ref: "))]);
    expect(after.filter((line, i) => line !== before[i])).toEqual([`    ref: ${next}`]);
  });

  it("refuses a stack file with a byte from another encoding (exit 2, naming the line) and writes nothing", () => {
    const original = readFileSync(path.join(ROOT, "Pulumi.production.yaml"));
    const at = original.indexOf("acme/runbook");
    const latin1 = Buffer.concat([original.subarray(0, at), Buffer.from([0x61, 0xe9]), original.subarray(at + 2)]);
    const run = promote(["--digest", digest("ab")], { withPulumi: false, file: latin1 });
    const line = original.subarray(0, at).toString("utf8").split("\n").length;
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`:${line}: not valid UTF-8 (a byte from another encoding, such as Latin-1); save the file as UTF-8`);
    expect(readFileSync(run.file).equals(latin1)).toBe(true);
  });

  it.each([
    ["no Pulumi CLI and no --digest", [], { withPulumi: false }, 2, "the Pulumi CLI is not on PATH; pass --digest"],
    ["the Pulumi CLI fails", [], { fail: true }, 3, "could not read the outputs of stack acme/runbook-platform/staging (pulumi stack output): error: no stack named 'staging' found"],
    ["staging exports a tag", [], { outputs: { imageRef: `${REPOSITORY}:latest` } }, 2, "the imageRef output of stack acme/runbook-platform/staging is"],
    ["a misspelled flag", ["--digst", digest("ab")], {}, 2, "(Did you mean --digest?)"],
  ] as const)("exits with the contract's code on %s", (_, args, env, code, message) => {
    const run = promote([...args], env);
    expect(run.status).toBe(code);
    expect(run.stderr).toContain(message);
    expect(changedLines(run.after)).toEqual([]);
  });
});
