import type * as pulumi from "@pulumi/pulumi";
import type { StackIdentity } from "./naming";

export { STATEFUL_TYPES } from "../policies/lib/stateful";

/**
 * The protect/retain defaults of every component, in one place (issue 13, issue 17 item 7). A
 * component passes `stateful(stack, kind, parent)` as the options of each resource that holds data,
 * and `named(parent)` for each resource whose physical name it sets; nothing else states them.
 *
 * - `protect` in production on everything that holds data: `pulumi destroy` and a replacing change
 *   stop with "resource is protected" instead of deleting it.
 * - `retainOnDelete` in every stack on KMS keys, backup vaults and drill records: deleting the stack
 *   (staging's `pulumi destroy` included) leaves them in the account. A deleted key makes every
 *   snapshot and recovery point encrypted with it unreadable; a vault and the drill records are the
 *   evidence that backups restore.
 *   The policy `aws-stateful-resource-protected` holds every resource of STATEFUL_TYPES to this.
 * - `deleteBeforeReplace` where a physical name is explicit: AWS refuses a second resource with the
 *   same name, so a replacement must delete first (in production, `protect` stops it before that).
 */

/** The kinds of resources that hold data or make it readable. */
export type StatefulKind = "database" | "cache" | "bucket" | "key" | "vault" | "records";

/** Kinds that outlive their stack: kept in the account when the stack deletes them. */
const RETAINED: ReadonlySet<StatefulKind> = new Set(["key", "vault", "records"]);

/** KMS keeps a scheduled key deletion this many days (7-30), the window to cancel a mistaken delete. */
export const KMS_DELETION_WINDOW_DAYS = 30;

/** Whether `pulumi destroy` may empty what a stack's buckets and vaults hold: staging only. */
export function forceDestroy(stack: StackIdentity): boolean {
  return stack.environment !== "production";
}

/** Options of a stateful child: `protect` in production, `retainOnDelete` for keys, vaults and records. */
export function stateful(stack: StackIdentity, kind: StatefulKind, parent: pulumi.Resource, opts: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
  return {
    ...opts,
    parent,
    protect: stack.environment === "production",
    ...(RETAINED.has(kind) ? { retainOnDelete: true } : {}),
  };
}

/** Options of a child whose physical name is explicit: a replacement deletes the old one first. */
export function named(parent: pulumi.Resource, opts: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
  return { ...opts, parent, deleteBeforeReplace: true };
}
