import { connect, type PeerCertificate, type TLSSocket } from "node:tls";
import { isIP } from "node:net";
import type { CheckResult } from "../lib/report";
import { describeNetworkError } from "../incident/errors";

/** Certificates closer to expiry than this fail the smoke (ACM renews 60 days ahead; this means renewal broke). */
const CERT_FAIL_DAYS = 7;
/** ...and closer than this warn. */
const CERT_WARN_DAYS = 30;

function handshake(host: string, port: number, timeoutMs: number, ca?: string): Promise<{ socket: TLSSocket; cert: PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      minVersion: "TLSv1.2",
      ...(ca ? { ca } : {}),
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error("TLS handshake timed out"), { name: "TimeoutError" })));
    socket.once("secureConnect", () => resolve({ socket, cert: socket.getPeerCertificate() }));
    socket.once("error", reject);
  });
}

/** Verified handshake (the system CAs, or `ca`), TLS 1.2 or later, and the certificate's remaining days. */
export async function checkTls(baseUrl: string, timeoutMs: number, ca?: string): Promise<CheckResult> {
  const url = new URL(baseUrl);
  const started = performance.now();
  const port = Number(url.port || 443);
  const target = `${url.hostname}:${port}`;
  try {
    const { socket, cert } = await handshake(url.hostname, port, timeoutMs, ca);
    const protocol = socket.getProtocol() ?? "unknown";
    socket.end();
    const daysLeft = Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000);
    const detail = `${protocol}, certificate for ${cert.subject?.CN ?? "?"} valid ${daysLeft} more days (until ${cert.valid_to})`;
    const status = daysLeft < CERT_FAIL_DAYS ? "fail" : daysLeft < CERT_WARN_DAYS ? "warn" : "pass";
    return { check: "TLS", status, detail: status === "pass" ? detail : `${detail}: renewal is not happening`, durationMs: performance.now() - started };
  } catch (error) {
    return { check: "TLS", status: "fail", detail: describeNetworkError(error, "TLS handshake", target, timeoutMs), durationMs: performance.now() - started };
  }
}
