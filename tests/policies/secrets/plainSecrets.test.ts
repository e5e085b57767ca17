import { describe, expect, it } from "vitest";
import { DESIGNED_SECRET_INPUTS, findPlainSecrets, noPlainSecrets as policy } from "../../../policies/secrets/plainSecrets";
import { evaluatePolicies } from "../../../policies/evaluate";
import { fixture, named, run, violation } from "../fixture";

describe("no-plain-secrets", () => {
  it("passes the happy path, where the auth token and GitHub token are secrets", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags the same auth token once it is a plain input", async () => {
    const plan = fixture();
    named(plan, "cache-group").secretPaths = [];
    expect(await run(policy, plan)).toEqual([violation(policy, "cache-group", 'authToken holds a value for "authToken" as a plain input; make it a Pulumi secret.')]);
  });
  it("flags a token-shaped value under any key", async () => {
    const plan = fixture();
    named(plan, "repository-github").secretPaths = [];
    expect(await run(policy, plan)).toEqual([violation(policy, "repository-github", "token holds a GitHub token as a plain input; make it a Pulumi secret.")]);
  });
  it.each([
    ["a URL with a password", { data: { DATABASE_URL: "postgres://app:s3cret@db.internal:5432/app" } }, "data.DATABASE_URL"],
    ["an AWS access key id", { tags: { note: "AKIAABCDEFGHIJKLMNOP" } }, "tags.note"],
    ["a private key", { userData: "-----BEGIN RSA PRIVATE KEY-----\nMIIE..." }, "userData"],
  ])("finds %s", (kind, props, path) => {
    expect(findPlainSecrets(props, [])).toEqual([{ path, kind }]);
  });
  it("flags a Kubernetes env var named like a secret with a literal value, not one from a Secret", () => {
    const containers = [
      {
        name: "api",
        env: [
          { name: "REDIS_PASSWORD", value: "hunter2-but-longer" },
          { name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
          { name: "NODE_ENV", value: "production" },
        ],
      },
    ];
    expect(findPlainSecrets({ spec: { containers } }, [])).toEqual([
      { path: "spec.containers[0].env[0].value", kind: "the environment variable REDIS_PASSWORD" },
    ]);
  });
  it("ignores values under secret paths, booleans and references", () => {
    expect(findPlainSecrets({ authToken: "abc", nested: { password: "x" } }, ["authToken", "nested"])).toEqual([]);
    expect(findPlainSecrets({ manageMasterUserPassword: true, masterUserSecretKmsKeyId: "arn:aws:kms:eu-west-1:1:key/k" }, [])).toEqual([]);
  });
  it("trusts designed secret inputs when CrossGuard cannot say what was secret", async () => {
    const plan = fixture();
    const group = named(plan, "cache-group");
    const args = { type: group.type, props: group.inputs };
    expect(DESIGNED_SECRET_INPUTS[args.type]).toEqual(["authToken"]);
    const withoutPaths = plan.map((r) => ({ ...r, secretPaths: undefined }));
    expect(await evaluatePolicies(withoutPaths, { stack: "production", policies: [policy] })).toEqual([]);
  });
});
