import { PolicyPack } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT_LEVEL, POLICY_PACK_NAME, RUNBOOK_POLICIES } from "./all";

/**
 * The CrossGuard pack: `pulumi preview --policy-pack policies` locally and in CI, and enforced on both
 * stacks by the delivery program's PolicyGroup once published (`pulumi policy publish policies`).
 * Each policy's enforcement level and settings come from the pack's config
 * (`--policy-pack-config`, or the PolicyGroup's config): `{"all": "advisory"}` lowers every policy,
 * `{"aws-rds-instance-backup-retention": {"enforcementLevel": "mandatory", "minimumDays": 14}}` one.
 * Constructing the pack starts CrossGuard's gRPC server, so only this file does it.
 */
new PolicyPack(POLICY_PACK_NAME, {
  description: "The runbook's safeguards as policies: PITR and daily backups, encryption, private data tier, HTTPS and OAC, the six alarms, probes and pinned images, branch protection, no plain secrets.",
  enforcementLevel: DEFAULT_ENFORCEMENT_LEVEL,
  policies: [...RUNBOOK_POLICIES],
});
