import { createHash } from "node:crypto";

/**
 * Names and tags of a drill's temporary databases, deterministic per source and window, so that a
 * run that crashed leaves something the next run finds (RestoreBackend.sweep).
 */

const RDS_IDENTIFIER = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export const DRILL_TAG = "runbook-drill";
export const DRILL_SOURCE_TAG = "runbook-drill-source";

/** Six hex digits naming a source in temporary names (a crashed run's leftover is found by them). */
export function sourceHash(sourceId: string): string {
  return createHash("sha256").update(sourceId).digest("hex").slice(0, 6);
}

/**
 * A legal RDS identifier for a drill's temporary instance, `<prefix>-<window>-<source hash>`, at
 * most 63 characters: the same source and window always give the same name, so a rerun after a
 * crash meets (and sweeps) the instance the crashed run left.
 */
export function temporaryIdentifier(prefix: string, window: string, sourceId: string): string {
  const tail = `-${window.toLowerCase().replace(/[^a-z0-9]+/g, "")}-${sourceHash(sourceId)}`;
  const head = prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^[^a-z]+/, "").slice(0, 63 - tail.length).replace(/-+$/, "");
  const id = `${head || "drill"}${tail}`;
  if (!RDS_IDENTIFIER.test(id)) throw new Error(`cannot build an RDS identifier from prefix "${prefix}" and window "${window}"`);
  return id;
}

