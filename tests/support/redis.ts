import { spawn, spawnSync } from "node:child_process";
import { freePort } from "./ports";

/**
 * A throwaway redis-server (Debian's binary) on a free port. A missing binary is an error that
 * names the fix, never a skipped test: `.ci/run` installs it.
 */

export interface RedisServer {
  port: number;
  /** `redis://` URL, with the password when one was set. */
  url: string;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Requires AUTH with this password (as ElastiCache's auth token does). */
  password?: string;
  /** maxmemory-policy, as the cache component's parameter group sets it. */
  maxmemoryPolicy?: string;
  /** maxmemory, e.g. "2mb", to exercise memory pressure. */
  maxmemory?: string;
}

const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";

function redisServerVersion(): string {
  const probe = spawnSync(REDIS_SERVER_BIN, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${REDIS_SERVER_BIN} was not found or failed to run: install it with "apt-get install -y redis-server" (.ci/run does).`);
  }
  return probe.stdout.trim();
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  redisServerVersion();
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"];
  if (options.password) args.push("--requirepass", options.password);
  if (options.maxmemoryPolicy) args.push("--maxmemory-policy", options.maxmemoryPolicy);
  if (options.maxmemory) args.push("--maxmemory", options.maxmemory);
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code} before it was ready:\n${output}`));
    });
  });
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
