/**
 * What an artifact is and when it may be promoted: pure functions, no Pulumi import, shared by the
 * program (components/promotion.ts), `npm run promote` (scripts/promote.ts) and the tests.
 */

/** An image pinned by digest (`<repository>@sha256:<64 hex>`): the only form of an artifact. */
export const IMAGE_BY_DIGEST = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+@sha256:[a-f0-9]{64}$/;

/** The stack output that names the artifact a stack runs. */
export const ARTIFACT_OUTPUT = "imageRef";
/** The stack output listing the artifacts that passed staging's smoke checks, sorted. */
export const VERIFIED_OUTPUT = "verifiedImageRefs";
/** Where the staging smoke workflow writes one object per artifact that passed: `<prefix><64 hex>.json`. */
export const SMOKE_RECORD_PREFIX = "smoke/passed/sha256-";

/**
 * Returns `ref` when it names one immutable artifact from `repository` (`<repository>@sha256:<64 hex>`);
 * throws a fixable error naming `source` otherwise. A tag can be moved: it is not an artifact.
 */
export function requireDigestPinned(ref: unknown, source: string, repository: string): string {
  if (typeof ref !== "string" || ref === "") {
    throw new Error(`${source} has no artifact; set it to <repository>@sha256:<digest> (npm run promote writes it).`);
  }
  if (!IMAGE_BY_DIGEST.test(ref)) {
    throw new Error(`${source} is "${ref}", which is not pinned by digest; promote only <repository>@sha256:<64 hex digits> (a tag can be moved, so it is not the artifact staging tested).`);
  }
  if (!ref.startsWith(`${repository}@`)) {
    throw new Error(`${source} is "${ref}", which is not from image.repository (${repository}); fix image.repository or the artifact.`);
  }
  return ref;
}

/**
 * The promotion gate refused an artifact: a check failed (exit 1), as `npm run promote` exits for
 * the same refusal, not a malformed setting (exit 2).
 */
class UnverifiedArtifactError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "UnverifiedArtifactError";
  }
}

/**
 * Throws unless `ref` is among the artifacts the verifying stack lists (unless `rollback`). The
 * message names the stack, the artifact and both ways forward.
 * @throws UnverifiedArtifactError (exit 1)
 */
export function requireVerified(ref: string, verified: unknown, from: string, rollback: boolean): void {
  if (rollback) return;
  const list = Array.isArray(verified) ? verified.filter((v): v is string => typeof v === "string") : [];
  if (!list.includes(ref)) {
    throw new UnverifiedArtifactError(
      `image.ref is "${ref}", which stack ${from} has not run and passed its smoke checks with (its ${VERIFIED_OUTPUT} lists ${list.length} artifact${list.length === 1 ? "" : "s"}); ` +
        "promote an artifact staging verified (npm run promote), or set image.rollback: true for a deliberate rollback.",
    );
  }
}

/** The artifact a smoke record's object key names, or undefined for a key of another form. */
export function refFromRecordKey(key: string, repository: string): string | undefined {
  const match = new RegExp(`^${SMOKE_RECORD_PREFIX}([a-f0-9]{64})\\.json$`).exec(key);
  return match ? `${repository}@sha256:${match[1]}` : undefined;
}
