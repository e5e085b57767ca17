import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { Option } from "commander";
import { isMap } from "yaml";
import { CliError, createCommand, runAsProcess, type CliIo } from "../ops/lib/cli";
import { ARTIFACT_OUTPUT, requireDigestPinned, VERIFIED_OUTPUT } from "../ops/promotion/artifact";
import { PROJECT } from "../runbook";
import { readStackDocument } from "../stackFiles";

/**
 * `npm run promote`: "Promote same artifact to production" as a one-line, reviewable change. Reads the
 * artifact staging runs (its `imageRef` output, through the Pulumi CLI) or takes `--digest` offline,
 * checks it against the artifacts staging passed its smoke checks with (`verifiedImageRefs`), and
 * writes it as `image.ref` into Pulumi.production.yaml, keeping every comment and the file's layout.
 * Nothing is deployed: the change lands through a pull request and production's `pulumi up`.
 *
 * Exit codes: 0 written (or already pinned), 1 refused (staging has not verified the artifact),
 * 2 bad usage or a bad stack file, 3 staging could not be read (the Pulumi CLI failed).
 */

const IMAGE_KEY = `${PROJECT}:image`;

interface PromoteResult {
  file: string;
  previous: string | undefined;
  ref: string;
  changed: boolean;
  rollback: boolean;
  /** Where the artifact came from: `--digest`, or the stack whose `imageRef` was read. */
  source: string;
  /** `true` when checked against staging's verified list; `unchecked` offline (the preview checks it). */
  verified: true | "unchecked";
}

interface StackOutputs {
  imageRef?: unknown;
  verifiedImageRefs?: unknown;
}

const execFileAsync = promisify(execFile);

/** Staging's outputs through `pulumi stack output --json`; exit 2 without the CLI, 3 when it fails. */
async function readStackOutputs(stack: string): Promise<StackOutputs> {
  try {
    const { stdout } = await execFileAsync("pulumi", ["stack", "output", "--json", "--stack", stack], { maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as StackOutputs;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") {
      throw new CliError("the Pulumi CLI is not on PATH; pass --digest <repository>@sha256:<64 hex> (the artifact staging runs) to promote offline.", 2);
    }
    throw new CliError(`could not read the outputs of stack ${stack} (pulumi stack output): ${(failure.stderr ?? failure.message).trim()}`, 3);
  }
}

interface PromoteOptions {
  file: string;
  digest?: string;
  from?: string;
  rollback: boolean;
}

/** Checks the artifact and writes it into the stack file; throws CliError with the contract's exit code. */
async function promote(options: PromoteOptions): Promise<PromoteResult> {
  const { file, rollback } = options;
  // The same reader as the preview: a missing file, a directory, a non-UTF-8 byte or a YAML error is named with its line.
  const { doc, newline, bom } = readStackDocument(file);
  const image = doc.getIn(["config", IMAGE_KEY]);
  if (!isMap(image)) throw new CliError(`${file}: no ${IMAGE_KEY} section; add one with repository and verifiedBy.`, 2);
  const repository = image.get("repository");
  if (typeof repository !== "string") throw new CliError(`${file}: ${IMAGE_KEY}.repository is not set.`, 2);
  const previous = image.get("ref");
  // Either source, never both: a --from beside --digest would be silently ignored.
  if (options.digest !== undefined && options.from !== undefined) {
    throw new CliError("--digest and --from name the artifact two ways; pass --digest <ref> offline, or --from <stack> to read its imageRef.", 2);
  }
  const from = options.from ?? (image.get("verifiedBy") as string | undefined);

  let outputs: StackOutputs | undefined;
  if (options.digest === undefined) {
    if (from === undefined) throw new CliError(`${file}: ${IMAGE_KEY}.verifiedBy is not set; pass --from <org>/${PROJECT}/staging, or --digest.`, 2);
    outputs = await readStackOutputs(from);
  }
  const ref = pinned(options.digest ?? outputs?.imageRef, options.digest === undefined ? `the ${ARTIFACT_OUTPUT} output of stack ${from}` : "--digest", repository);
  let verified: PromoteResult["verified"] = "unchecked";
  if (outputs && !rollback) {
    const list = Array.isArray(outputs.verifiedImageRefs) ? outputs.verifiedImageRefs : [];
    if (!list.includes(ref)) {
      throw new CliError(
        `${ref} has not passed staging's smoke checks: stack ${from}'s ${VERIFIED_OUTPUT} does not list it. Run the staging-smoke workflow on it first, or pass --rollback for a deliberate rollback.`,
        1,
      );
    }
    verified = true;
  }

  const changed = previous !== ref || Boolean(image.get("rollback")) !== rollback;
  if (changed) {
    image.set("ref", ref);
    if (rollback) image.set("rollback", true);
    else image.delete("rollback");
    // The one changed line, and nothing else: the file's line endings and byte-order mark are kept.
    const text = doc.toString({ lineWidth: 0 });
    writeFileSync(file, `${bom ? "\uFEFF" : ""}${newline === "\r\n" ? text.replace(/\r*\n/g, "\r\n") : text}`);
  }
  return { file, previous: typeof previous === "string" ? previous : undefined, ref, changed, rollback, source: options.digest ? "--digest" : (from as string), verified };
}

/** requireDigestPinned, as a usage error (exit 2). */
function pinned(ref: unknown, source: string, repository: string): string {
  try {
    return requireDigestPinned(ref, source, repository);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
}

const short = (ref: string) => ref.split("@sha256:")[1]?.slice(0, 12) ?? ref;

interface CommandOptions {
  digest?: string;
  from?: string;
  rollback: boolean;
  file: string;
  json: boolean;
}

async function run(opts: CommandOptions, io: CliIo): Promise<number> {
  const say = (line: string) => io.stdout(`${line}\n`);
  const result = await promote({ file: opts.file, digest: opts.digest, from: opts.from, rollback: opts.rollback });
  if (opts.json) {
    say(JSON.stringify(result, null, 2));
    return 0;
  }
  const name = path.basename(result.file);
  if (!result.changed) {
    say(`${name} already pins ${result.ref}; nothing to change.`);
    return 0;
  }
  say(`${name}: image.ref ${result.previous ?? "(unset)"}`);
  say(`${" ".repeat(name.length)}       -> ${result.ref}${result.rollback ? "  (rollback: true)" : ""}`);
  say(
    result.verified === true
      ? `Staging (${result.source}) passed its smoke checks with it.`
      : "Not checked against staging's smoke records here: production's preview checks it (pulumi preview --stack production).",
  );
  say(`Next: git switch -c promote-${short(result.ref)} && git commit -am "promote ${short(result.ref)} to production" && open a pull request.`);
  return 0;
}

if (require.main === module) {
  const program = createCommand("promote", "Write the artifact staging runs (and passed its smoke checks with) into Pulumi.production.yaml, for a pull request.")
    .option("--digest <ref>", "the artifact, <repository>@sha256:<64 hex>; without it, staging's imageRef output is read with the Pulumi CLI")
    .option("--from <stack>", "the stack to promote from (default: image.verifiedBy of the stack file)")
    .option("--rollback", "a deliberate rollback to an artifact staging no longer lists: sets image.rollback: true", false)
    .addOption(new Option("--file <path>", "the stack file to change").default(path.resolve(__dirname, "..", "Pulumi.production.yaml"), "Pulumi.production.yaml"))
    .option("--json", "print the result as one JSON document", false);
  runAsProcess<CommandOptions>(program, run);
}
