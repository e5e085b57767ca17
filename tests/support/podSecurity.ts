/**
 * The Kubernetes Pod Security Standards' "Restricted" profile as a check on a pod spec, written from
 * the standard's controls (kubernetes.io/docs/concepts/security/pod-security-standards, Restricted
 * and the Baseline controls it includes), not from our workloads: a test asserts the workloads pass
 * it, and that it catches each control broken, instead of restating our security contexts.
 */

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  procMount?: string;
}

interface Container {
  name?: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}

/** The part of a PodSpec the profile reads. */
export interface RestrictedPodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
}

/** Volume types the Restricted profile allows ("Volume Types"). */
const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/** Every Restricted control `pod` breaks, one line each (`api: allowPrivilegeEscalation is not false`); [] when it passes. */
export function restrictedViolations(pod: RestrictedPodSpec): string[] {
  const violations: string[] = [];
  for (const key of ["hostNetwork", "hostPID", "hostIPC"] as const) if (pod[key]) violations.push(`pod: ${key} is true (Host Namespaces)`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== "name");
    if (type === undefined || !RESTRICTED_VOLUME_TYPES.has(type)) violations.push(`volume ${String(volume.name)}: type ${String(type)} is not allowed (Volume Types)`);
  }
  const podContext = pod.securityContext ?? {};
  if (podContext.runAsUser === 0) violations.push("pod: runAsUser is 0 (Running as Non-root user)");
  for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const c = container.securityContext ?? {};
    const name = container.name ?? "container";
    if (c.privileged) violations.push(`${name}: privileged (Privileged Containers)`);
    if (c.allowPrivilegeEscalation !== false) violations.push(`${name}: allowPrivilegeEscalation is not false (Privilege Escalation)`);
    if ((c.runAsNonRoot ?? podContext.runAsNonRoot) !== true) violations.push(`${name}: runAsNonRoot is not true, on the container or the pod (Running as Non-root)`);
    if (c.runAsUser === 0) violations.push(`${name}: runAsUser is 0 (Running as Non-root user)`);
    const seccomp = c.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") violations.push(`${name}: seccompProfile is ${String(seccomp)}, not RuntimeDefault or Localhost (Seccomp)`);
    if (!(c.capabilities?.drop ?? []).includes("ALL")) violations.push(`${name}: capabilities do not drop ALL (Capabilities)`);
    for (const added of c.capabilities?.add ?? []) if (added !== "NET_BIND_SERVICE") violations.push(`${name}: adds capability ${added} (Capabilities)`);
    if (c.procMount !== undefined && c.procMount !== "Default") violations.push(`${name}: procMount ${c.procMount} (/proc Mount Type)`);
    if ((container.ports ?? []).some((p) => p.hostPort !== undefined && p.hostPort !== 0)) violations.push(`${name}: uses a hostPort (HostPorts)`);
  }
  return violations;
}
