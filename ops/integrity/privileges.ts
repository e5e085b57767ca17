import type { CheckResult } from "../lib/report";

/**
 * Missing privileges: a role that may not read something gets one "not checked" finding per
 * privilege it lacks (status `skip`, exit code 3), naming every check that privilege stopped and
 * the GRANT that fixes it, instead of one failure per check. Privileges are written
 * "SELECT on table orders", "USAGE on schema audit", "SELECT on sequence orders_id_seq",
 * "EXECUTE on function public.bt_index_check(regclass, boolean)".
 */

/** Checks a missing privilege stopped, before they are merged into one finding. */
export interface Blocked {
  privilege: string;
  checks: string[];
}

const PRIVILEGE = /^(\w+) on (schema|table|sequence|function) (.+)$/;

/** The privilege a PostgreSQL "permission denied" error (SQLSTATE 42501) names, if it names one. */
export function privilegeOfError(message: string): string | undefined {
  const m = /^permission denied for (schema|table|sequence|function) (.+)$/.exec(message);
  if (!m) return undefined;
  const [, kind, object] = m;
  return `${kind === "schema" ? "USAGE" : kind === "function" ? "EXECUTE" : "SELECT"} on ${kind} ${object}`;
}

/** One finding per privilege, each naming every check it stopped; `role` is quoted as needed. */
export function privilegeFindings(blocked: readonly Blocked[], role: string): CheckResult[] {
  const merged = new Map<string, string[]>();
  for (const b of blocked) merged.set(b.privilege, [...(merged.get(b.privilege) ?? []), ...b.checks]);
  return [...merged].map(([privilege, checks]) => {
    const [, action, kind, object] = PRIVILEGE.exec(privilege) ?? [undefined, "SELECT", "table", privilege];
    const grant = `GRANT ${action} ON ${kind === "table" ? "" : `${(kind ?? "").toUpperCase()} `}${object} TO ${role}`;
    const unique = [...new Set(checks)].sort();
    return {
      check: `privilege: ${privilege}`,
      status: "skip",
      detail: `not checked: no privilege on ${object} (${privilege}); skipped: ${unique.join("; ")}; fix: ${grant}`,
    };
  });
}
