/**
 * Composite alarm rules as CloudWatch writes them, evaluated over the member alarms' states; and the
 * replay's input error, which every part of the replay raises for input it cannot use.
 */

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

/** Bad input: names the file, the line and what to fix. The CLI exits 2 on it. */
export class ReplayInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplayInputError";
  }
}

export type Rule = (states: ReadonlyMap<string, AlarmState>) => boolean;

/**
 * A composite alarm rule: `ALARM("name")`, `OK("name")`, `INSUFFICIENT_DATA("name")`, `TRUE`,
 * `FALSE`, combined with `AND`, `OR`, `NOT` and parentheses (AND binds tighter than OR).
 * @throws ReplayInputError naming the alarm for a rule it cannot read or a member the plan lacks.
 */
export function parseRule(rule: string, alarmName: string): Rule {
  const tokens = rule.match(/\s*(ALARM|OK|INSUFFICIENT_DATA|TRUE|FALSE|AND|OR|NOT|\(|\)|"(?:[^"\\]|\\.)*")/gy);
  const joined = (tokens ?? []).join("");
  if (joined.length !== rule.trimEnd().length) throw new ReplayInputError(`plan: composite alarm ${alarmName}'s rule cannot be read near character ${joined.length + 1}: ${rule}`);
  const list = (tokens ?? []).map((t) => t.trim());
  let pos = 0;
  const fail = (reason: string): never => {
    throw new ReplayInputError(`plan: composite alarm ${alarmName}'s rule ${reason}: ${rule}`);
  };
  const expect = (t: string) => {
    if (list[pos] !== t) fail(`expects "${t}" at token ${pos + 1}`);
    pos++;
  };
  const primary = (): Rule => {
    const t = list[pos++];
    if (t === "TRUE") return () => true;
    if (t === "FALSE") return () => false;
    if (t === "NOT") {
      const inner = primary();
      return (s) => !inner(s);
    }
    if (t === "(") {
      const inner = or();
      expect(")");
      return inner;
    }
    if (t === "ALARM" || t === "OK" || t === "INSUFFICIENT_DATA") {
      expect("(");
      const quoted = list[pos++];
      if (!quoted?.startsWith('"')) return fail(`expects a quoted alarm name after ${t}(`);
      const name = JSON.parse(quoted) as string;
      expect(")");
      return (s) => {
        const state = s.get(name);
        if (state === undefined) return fail(`names "${name}", which is not an alarm of the plan`);
        return state === t;
      };
    }
    return fail(`has an unexpected ${t === undefined ? "end" : `"${t}"`}`);
  };
  const and = (): Rule => {
    let left = primary();
    while (list[pos] === "AND") {
      pos++;
      const l = left;
      const r = primary();
      left = (s) => l(s) && r(s);
    }
    return left;
  };
  const or = (): Rule => {
    let left = and();
    while (list[pos] === "OR") {
      pos++;
      const l = left;
      const r = and();
      left = (s) => l(s) || r(s);
    }
    return left;
  };
  const root = or();
  if (pos < list.length) fail(`has unexpected "${list[pos] as string}"`);
  return root;
}
