/**
 * A rule's verdict on one setting, shared by config.ts (which reports every problem of a stack file
 * at once, under the key's full path) and a component's own validator (which refuses args given to
 * it directly). Each rule is written once, in the component that depends on it.
 */
export interface SettingProblem {
  /** The key, relative to the section the caller reports under: `nodeCount` under `cache`. */
  key: string;
  /** The value seen. */
  got: unknown;
  /** What the rule expects, as a phrase: `at least 2 in production (...)`. */
  expected: string;
}

/**
 * Throws every problem of a component's args as one message,
 * `Cache: nodeCount is 1; expected at least 2 in production (...).`, or returns when there are none.
 * @throws Error naming the component, each key, the value seen and the form expected
 */
export function assertNoProblems(component: string, problems: readonly SettingProblem[]): void {
  if (problems.length === 0) return;
  const shown = (value: unknown) => (value === undefined ? "not set" : JSON.stringify(value));
  throw new Error(problems.map((p) => `${component}: ${p.key} is ${shown(p.got)}; expected ${p.expected}.`).join("\n"));
}
