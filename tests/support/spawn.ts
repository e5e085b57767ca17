import { spawn } from "node:child_process";
import { ROOT } from "./harness";

/** What a finished child process wrote, stdout and stderr apart, and its exit code. */
export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` from `cwd` (the repository root by default) and collects its output. `env`
 * replaces the environment (pass `{ ...process.env, ... }` to extend it); commands run as the README
 * writes them.
 */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
