import { describe, expect, it } from "vitest";
import {
  awsElasticacheReplicationGroupAtRestEncryption as atRest,
  awsElasticacheReplicationGroupAuth as auth,
  awsElasticacheReplicationGroupTransitEncryption as transit,
} from "../../../../../policies/aws/elasticache/replicationGroup/encryption";
import { fixture, named, run, violation } from "../../../fixture";

const changed = (inputs: Record<string, unknown>) => {
  const plan = fixture();
  Object.assign(named(plan, "cache-group").inputs, inputs);
  return plan;
};

describe("ElastiCache replication group encryption and auth", () => {
  it("passes the happy path", async () => {
    for (const policy of [transit, atRest, auth]) expect(await run(policy, fixture())).toEqual([]);
  });
  it("aws-elasticache-replication-group-transit-encryption flags off, unset and preferred", async () => {
    expect(await run(transit, changed({ transitEncryptionEnabled: false }))).toEqual([
      violation(transit, "cache-group", "transitEncryptionEnabled is false; replay-protection keys and the auth token must not cross the network in clear text."),
    ]);
    expect(await run(transit, changed({ transitEncryptionEnabled: undefined }))).toEqual([
      violation(transit, "cache-group", "transitEncryptionEnabled is not set; replay-protection keys and the auth token must not cross the network in clear text."),
    ]);
    expect(await run(transit, changed({ transitEncryptionMode: "preferred" }))).toEqual([
      violation(transit, "cache-group", 'transitEncryptionMode is "preferred", which still accepts clear-text clients; use "required".'),
    ]);
  });
  it("aws-elasticache-replication-group-at-rest-encryption flags off and unset", async () => {
    expect(await run(atRest, changed({ atRestEncryptionEnabled: false }))).toEqual([
      violation(atRest, "cache-group", "atRestEncryptionEnabled is false; cache data and snapshots must be encrypted at rest."),
    ]);
    expect(await run(atRest, changed({ atRestEncryptionEnabled: undefined }))).toEqual([
      violation(atRest, "cache-group", "atRestEncryptionEnabled is not set; cache data and snapshots must be encrypted at rest."),
    ]);
  });
  it("aws-elasticache-replication-group-auth flags no token, accepts RBAC user groups", async () => {
    const message = "neither authToken nor userGroupIds is set; any client in the network could read and forge replay-protection keys.";
    expect(await run(auth, changed({ authToken: undefined }))).toEqual([violation(auth, "cache-group", message)]);
    expect(await run(auth, changed({ authToken: "" }))).toEqual([violation(auth, "cache-group", message)]);
    expect(await run(auth, changed({ authToken: undefined, userGroupIds: ["runbook-users"] }))).toEqual([]);
  });
});
