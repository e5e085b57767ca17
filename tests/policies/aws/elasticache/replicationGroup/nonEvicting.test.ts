import { describe, expect, it } from "vitest";
import { awsElasticacheReplicationGroupNonEvicting as policy } from "../../../../../policies/aws/elasticache/replicationGroup/nonEvicting";
import { fixture, named, run, violation } from "../../../fixture";

describe("aws-elasticache-replication-group-non-evicting", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags an evicting maxmemory-policy", async () => {
    const plan = fixture();
    named(plan, "cache-parameters").inputs.parameters = [{ name: "maxmemory-policy", value: "volatile-lru" }];
    expect(await run(policy, plan)).toEqual([violation(policy, "cache-group", "cache-group: maxmemory-policy is volatile-lru; allowed: noeviction.")]);
  });
  it("flags a parameter group that leaves maxmemory-policy at the default", async () => {
    const plan = fixture();
    named(plan, "cache-parameters").inputs.parameters = [];
    expect(await run(policy, plan)).toEqual([violation(policy, "cache-group", "cache-group: maxmemory-policy is not set (volatile-lru); allowed: noeviction.")]);
  });
  it("flags the engine's default parameter group", async () => {
    const plan = fixture();
    const group = named(plan, "cache-group");
    group.inputs.parameterGroupName = undefined;
    group.propertyDependencies = {};
    expect(await run(policy, plan)).toEqual([
      violation(policy, "cache-group", "cache-group: uses parameter group the engine's default; its maxmemory-policy (volatile-lru by default) evicts keys."),
    ]);
    group.inputs.parameterGroupName = "default.valkey8";
    expect(await run(policy, plan)).toEqual([
      violation(policy, "cache-group", 'cache-group: uses parameter group "default.valkey8", which is not managed by this stack; its maxmemory-policy (volatile-lru by default) evicts keys.'),
    ]);
  });
  it("allows volatile-ttl only when the pack's config says so", async () => {
    const plan = fixture();
    named(plan, "cache-parameters").inputs.parameters = [{ name: "maxmemory-policy", value: "volatile-ttl" }];
    expect(await run(policy, plan)).toEqual([violation(policy, "cache-group", "cache-group: maxmemory-policy is volatile-ttl; allowed: noeviction.")]);
    expect(await run(policy, plan, "production", { [policy.name]: { allowedPolicies: ["noeviction", "volatile-ttl"] } })).toEqual([]);
  });
});
