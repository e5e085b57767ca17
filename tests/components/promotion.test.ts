import { describe, expect, it } from "vitest";
import { requireDigestPinned } from "../../components/promotion";
import { ofType, type ProgramResult, ProgramError, runProgram, stagingArtifact } from "../support/harness";

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
    expect(() => requireDigestPinned(`${REPOSITORY}:v1.4.2`, "the imageRef output of stack s", REPOSITORY)).toThrow(
      `the imageRef output of stack s is "${REPOSITORY}:v1.4.2", which is not pinned by digest`,
    );
    expect(() => requireDigestPinned(undefined, "the imageRef output of stack s", REPOSITORY)).toThrow("the imageRef output of stack s has no artifact; run `pulumi up` on that stack first");
    expect(() => requireDigestPinned(digest("cd").replace("runbook-api", "other"), "image.ref", REPOSITORY)).toThrow(`which is not from image.repository (${REPOSITORY})`);
  });
});

describe("same-artifact promotion", () => {
  // With `stackReferences: {}` the harness's mock throws on any StackReference read (the run fails),
  // so a run that succeeds referenced no stack.
  it("staging runs its configured artifact, exports it as imageRef, and references no stack", async () => {
    const result = await runProgram({ stack: "staging", stackReferences: {} });
    expect(deployedImages(result)).toEqual({ "services-api": stagingArtifact(), "services-worker": stagingArtifact() });
    expect(result.outputs.imageRef).toBe(stagingArtifact());
  });

  it("production runs exactly the artifact staging exports, read through a StackReference", async () => {
    const result = await runProgram({ stack: "production" });
    expect(deployedImages(result)).toEqual({ "services-api": stagingArtifact(), "services-worker": stagingArtifact() });
    expect(result.outputs.imageRef).toBe(stagingArtifact());
  });

  it("production follows whatever staging exports, not a value of its own", async () => {
    const promoted = digest("0f");
    const result = await runProgram({ stack: "production", stackReferences: { [STAGING_STACK]: { imageRef: promoted } } });
    expect(deployedImages(result)).toEqual({ "services-api": promoted, "services-worker": promoted });
  });

  it("an explicit image.ref overrides promotion in production, without any StackReference", async () => {
    const override = digest("9e");
    const result = await runProgram({ stack: "production", config: { image: { ref: override } }, stackReferences: {} });
    expect(deployedImages(result)).toEqual({ "services-api": override, "services-worker": override });
  });

  it("production refuses a tag-only artifact from staging before registering anything", async () => {
    const error = await failure(runProgram({ stack: "production", stackReferences: { [STAGING_STACK]: { imageRef: `${REPOSITORY}:latest` } } }));
    expect(error.message).toContain(`the imageRef output of stack ${STAGING_STACK} is "${REPOSITORY}:latest", which is not pinned by digest`);
    expect(error.resources).toEqual([]);
  });

  it("production refuses a staging stack that exports no artifact", async () => {
    const error = await failure(runProgram({ stack: "production", stackReferences: { [STAGING_STACK]: {} } }));
    expect(error.message).toContain(`the imageRef output of stack ${STAGING_STACK} has no artifact`);
    expect(error.resources).toEqual([]);
  });
});

describe("bad image settings fail before anything is registered", () => {
  it.each([
    ["a tag-only image.ref in production", "production", { ref: `${REPOSITORY}:v1.4.2` }, "runbook-platform:image.ref"],
    ["a tag-only image.ref in staging", "staging", { ref: `${REPOSITORY}:latest` }, "runbook-platform:image.ref"],
    ["staging without an artifact", "staging", { ref: null }, "runbook-platform:image.ref: got nothing (the key is missing); expected the artifact staging runs, pinned by digest"],
    ["production with neither an artifact nor a stack to promote from", "production", { promoteFromStack: null }, "runbook-platform:image.promoteFromStack: got nothing"],
    ["an artifact from another repository", "production", { ref: digest("ab").replace("runbook-api", "other") }, "expected an image from image.repository"],
  ] as const)("%s", async (_, stack, image, expected) => {
    const error = await failure(runProgram({ stack, config: { image } }));
    expect(error.resources).toEqual([]);
    expect(error.message).toContain(expected);
    expect(error.message).toContain("nothing was registered");
  });
});
