import { describe, expect, it } from "vitest";
import { refFromRecordKey, requireDigestPinned, SMOKE_RECORD_PREFIX } from "../../ops/promotion/artifact";
import { ofType, one, type ProgramResult, ProgramError, readStackFile, runProgram, stagingArtifact } from "../support/harness";

const REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api";
const STAGING_STACK = "acme/runbook-platform/staging";
const digest = (hex: string) => `${REPOSITORY}@sha256:${hex.repeat(64 / hex.length)}`;

/** The image each Deployment runs, by Deployment name. */
function deployedImages(result: ProgramResult): Record<string, string> {
  return Object.fromEntries(
    ofType(result, "kubernetes:apps/v1:Deployment").map((d) => [
      d.name,
      (d.inputs.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image as string,
    ]),
  );
}

async function failure(run: Promise<unknown>): Promise<ProgramError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProgramError);
  return error as ProgramError;
}

describe("requireDigestPinned", () => {
  it("accepts an artifact pinned by digest from the repository", () => {
    expect(requireDigestPinned(digest("ab"), "image.ref", REPOSITORY)).toBe(digest("ab"));
  });
  it("refuses a tag, a missing value and another repository, naming where the value came from", () => {
    expect(() => requireDigestPinned(`${REPOSITORY}:v1.4.2`, "image.ref", REPOSITORY)).toThrow(`image.ref is "${REPOSITORY}:v1.4.2", which is not pinned by digest`);
    expect(() => requireDigestPinned(undefined, "image.ref", REPOSITORY)).toThrow("image.ref has no artifact; set it to <repository>@sha256:<digest> (npm run promote writes it).");
    expect(() => requireDigestPinned(digest("cd").replace("runbook-api", "other"), "image.ref", REPOSITORY)).toThrow(`which is not from image.repository (${REPOSITORY})`);
  });
});

describe("refFromRecordKey", () => {
  it("reads the artifact from a smoke record's key, and nothing from any other key", () => {
    expect(refFromRecordKey(`${SMOKE_RECORD_PREFIX}${"ab".repeat(32)}.json`, REPOSITORY)).toBe(digest("ab"));
    expect(refFromRecordKey(`${SMOKE_RECORD_PREFIX}${"ab".repeat(31)}.json`, REPOSITORY)).toBeUndefined();
    expect(refFromRecordKey(`smoke/failed/sha256-${"ab".repeat(32)}.json`, REPOSITORY)).toBeUndefined();
  });
});

describe("staging keeps the smoke records production's preview checks", () => {
  // With `stackReferences: {}` the harness's mock throws on any StackReference read (the run fails),
  // so a run that succeeds referenced no stack.
  it("runs its pinned artifact, exports it as imageRef, and references no stack", async () => {
    const result = await runProgram({ stack: "staging", stackReferences: {} });
    expect(deployedImages(result)).toEqual({ "services-api": stagingArtifact(), "services-worker": stagingArtifact() });
    expect(result.outputs.imageRef).toBe(stagingArtifact());
  });

  it("exports as verifiedImageRefs the artifacts its smoke records name, ignoring other objects", async () => {
    const keys = [`${SMOKE_RECORD_PREFIX}${"0f".repeat(32)}.json`, `${SMOKE_RECORD_PREFIX}${"9e".repeat(32)}.json`, "smoke/passed/README.txt"];
    const result = await runProgram({ stack: "staging", smokeRecordKeys: keys });
    expect(result.outputs.verifiedImageRefs).toEqual([digest("0f"), digest("9e")]);
    const bucket = one(result, "aws:s3/bucket:Bucket", "promotion-records-bucket");
    expect(bucket.inputs).toMatchObject({ bucketPrefix: "runbook-staging-promotion-records-", forceDestroy: true });
    expect(one(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "promotion-records-public-access-block").inputs).toMatchObject({ blockPublicPolicy: true, restrictPublicBuckets: true });
  });

  it("production keeps no records of its own", async () => {
    const result = await runProgram({ stack: "production" });
    expect(ofType(result, "runbook-platform:delivery:PromotionRecords")).toEqual([]);
    expect(result.outputs.verifiedImageRefs).toBeUndefined();
  });
});

describe("production runs the artifact its stack file pins, and only one staging verified", () => {
  it("runs image.ref from Pulumi.production.yaml", async () => {
    const result = await runProgram({ stack: "production" });
    const pinned = (readStackFile("production")["runbook-platform:image"] as { ref: string }).ref;
    expect(deployedImages(result)).toEqual({ "services-api": pinned, "services-worker": pinned });
    expect(result.outputs.imageRef).toBe(pinned);
  });

  it("does not follow staging: a new staging artifact changes nothing until the stack file does", async () => {
    const result = await runProgram({ stack: "production", stackReferences: { [STAGING_STACK]: { imageRef: digest("0f"), verifiedImageRefs: [digest("0f"), stagingArtifact()] } } });
    expect(deployedImages(result)).toEqual({ "services-api": stagingArtifact(), "services-worker": stagingArtifact() });
  });

  it("refuses an artifact staging has not passed its smoke checks with, before registering anything", async () => {
    const error = await failure(runProgram({ stack: "production", stackReferences: { [STAGING_STACK]: { imageRef: stagingArtifact(), verifiedImageRefs: [digest("0f")] } } }));
    expect(error.message).toBe(
      `image.ref is "${stagingArtifact()}", which stack ${STAGING_STACK} has not run and passed its smoke checks with (its verifiedImageRefs lists 1 artifact); ` +
        "promote an artifact staging verified (npm run promote), or set image.rollback: true for a deliberate rollback.",
    );
    expect(error.resources).toEqual([]);
  });

  it("refuses when staging exports no verified list at all", async () => {
    const error = await failure(runProgram({ stack: "production", stackReferences: { [STAGING_STACK]: { imageRef: stagingArtifact() } } }));
    expect(error.message).toContain("(its verifiedImageRefs lists 0 artifacts)");
  });

  it("takes a deliberate rollback to an artifact staging no longer lists, without reading staging at all", async () => {
    const previous = digest("9e");
    const result = await runProgram({ stack: "production", config: { image: { ref: previous, rollback: true } }, stackReferences: {} });
    expect(deployedImages(result)).toEqual({ "services-api": previous, "services-worker": previous });
  });
});

describe("bad image settings fail before anything is registered", () => {
  it.each([
    ["a tag-only image.ref in production", "production", { ref: `${REPOSITORY}:v1.4.2` }, "runbook-platform:image.ref"],
    ["a tag-only image.ref in staging", "staging", { ref: `${REPOSITORY}:latest` }, "runbook-platform:image.ref"],
    ["staging without an artifact", "staging", { ref: null }, "runbook-platform:image.ref: got nothing (the key is missing); expected the artifact staging runs, pinned by digest"],
    ["production with an artifact nobody verifies", "production", { verifiedBy: null }, "runbook-platform:image.verifiedBy: got nothing"],
    ["an artifact from another repository", "production", { ref: digest("ab").replace("runbook-api", "other") }, "expected an image from image.repository"],
  ] as const)("%s", async (_, stack, image, expected) => {
    const error = await failure(runProgram({ stack, config: { image } }));
    expect(error.resources).toEqual([]);
    expect(error.message).toContain(expected);
    expect(error.message).toContain("nothing was registered");
  });
});
