/**
 * Turns network errors into messages that say what failed and what to check. Messages never
 * contain credentials: URLs are reduced to scheme, host, port and path first.
 */

/** `scheme://host:port/path` without user, password or query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(an unparsable URL)";
  }
}

interface ErrorWithCode {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
}

/** The innermost error code (fetch wraps socket errors as `TypeError: fetch failed` with a cause). */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  let code: string | undefined;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth += 1) {
    const e = current as ErrorWithCode;
    if (typeof e.code === "string") code = e.code;
    current = e.cause;
  }
  return code;
}

function isTimeout(error: unknown): boolean {
  const e = error as ErrorWithCode | undefined;
  return e?.name === "TimeoutError" || e?.name === "AbortError" || errorCode(error) === "UND_ERR_CONNECT_TIMEOUT" || errorCode(error) === "ETIMEDOUT";
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_SSL|ERR_TLS|EPROTO/;

/** One sentence about a failed network call to `what` at `target` (already redacted). */
export function describeNetworkError(error: unknown, what: string, target: string, timeoutMs: number): string {
  if (isTimeout(error)) return `${what} at ${target} did not answer within ${timeoutMs} ms: it is overloaded, hung, or a firewall drops the traffic`;
  const code = errorCode(error);
  if (code === "ECONNREFUSED") return `${what} at ${target} refused the connection (ECONNREFUSED): is it running, and is the URL's host and port right?`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `${what} host in ${target} does not resolve (${code}): check the URL`;
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return `${what} at ${target} closed the connection (${code})`;
  if (code && TLS_CODES.test(code)) return `${what} at ${target}: TLS certificate rejected (${code}); the certificate must be valid for the host and chain to a trusted CA`;
  return `${what} at ${target} failed: ${code ? `${code}: ` : ""}${innermostMessage(error)}`;
}

/** The deepest cause's message (fetch reports only "fetch failed" at the top). */
function innermostMessage(error: unknown): string {
  let current: unknown = error;
  let message = String(error);
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth += 1) {
    const m = (current as ErrorWithCode).message;
    if (typeof m === "string" && m) message = m;
    current = (current as ErrorWithCode).cause;
  }
  return message;
}

/** Rejects with a TimeoutError when `work` takes longer than `ms` (for clients whose own timeouts leave gaps). */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { name: "TimeoutError" })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
