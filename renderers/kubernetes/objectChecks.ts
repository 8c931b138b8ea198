/**
 * What the OpenAPI schemas do not check, checked across a set of rendered objects: names are DNS-1123,
 * label keys and values are valid, a workload's selector matches its pod template, every Service and
 * ServiceMonitor selects what it should (a ServiceMonitor exactly one Service), an HPA's range and
 * targets are sound and point at a workload that exists, every referenced Secret, claim and volume
 * exists, and no API version is one Kubernetes has removed. Each problem names the object.
 */
import { DNS1123_LABEL, isLabelKey, isLabelValue } from "../../fleet/kubernetes";
import type { KubeObject } from "./types";

/**
 * apiVersion/kind pairs removed from Kubernetes, and the release that removed them
 * (kubernetes.io/docs/reference/using-api/deprecation-guide).
 */
export const REMOVED_API_VERSIONS: readonly {
  apiVersion: string;
  kinds: readonly string[] | "*";
  removedIn: string;
}[] = [
  { apiVersion: "extensions/v1beta1", kinds: "*", removedIn: "1.22" },
  { apiVersion: "apps/v1beta1", kinds: "*", removedIn: "1.16" },
  { apiVersion: "apps/v1beta2", kinds: "*", removedIn: "1.16" },
  { apiVersion: "networking.k8s.io/v1beta1", kinds: ["Ingress", "IngressClass"], removedIn: "1.22" },
  { apiVersion: "batch/v1beta1", kinds: ["CronJob"], removedIn: "1.25" },
  { apiVersion: "policy/v1beta1", kinds: ["PodDisruptionBudget", "PodSecurityPolicy"], removedIn: "1.25" },
  { apiVersion: "autoscaling/v2beta1", kinds: ["HorizontalPodAutoscaler"], removedIn: "1.25" },
  { apiVersion: "autoscaling/v2beta2", kinds: ["HorizontalPodAutoscaler"], removedIn: "1.26" },
  {
    apiVersion: "storage.k8s.io/v1beta1",
    kinds: ["CSIStorageCapacity", "StorageClass", "CSIDriver"],
    removedIn: "1.27",
  },
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta2", kinds: "*", removedIn: "1.29" },
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kinds: "*", removedIn: "1.32" },
];

/** DNS-1123 subdomain (RFC 1123): most object names. Services and namespaces need a label (no dots). */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAMED_KINDS = new Set(["Namespace", "Service"]);
const WORKLOAD_KINDS = new Set(["StatefulSet", "Deployment"]);

const id = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;

/** Whether every label of `selector` is among `labels` (matchLabels semantics). */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

interface PodTemplateLike {
  metadata?: { labels?: Record<string, string> };
  spec?: {
    containers?: {
      name?: string;
      env?: { valueFrom?: { secretKeyRef?: { name?: string } } }[];
      volumeMounts?: { name?: string }[];
    }[];
    volumes?: { name?: string; persistentVolumeClaim?: { claimName?: string } }[];
    imagePullSecrets?: { name?: string }[];
  };
}

interface WorkloadSpecLike {
  selector?: { matchLabels?: Record<string, string> };
  template?: PodTemplateLike;
  volumeClaimTemplates?: { metadata?: { name?: string } }[];
  serviceName?: string;
}

export function checkObjects(objects: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const find = (kind: string, namespace: string | undefined, name: string | undefined) =>
    objects.find((o) => o.kind === kind && o.metadata?.namespace === namespace && o.metadata?.name === name);

  for (const o of objects) {
    const name = o.metadata?.name ?? "";
    const key = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ""}/${name}`;
    if (names.has(key)) problems.push(`${id(o)}: defined twice`);
    names.add(key);
    const removed = REMOVED_API_VERSIONS.find(
      (r) => r.apiVersion === o.apiVersion && (r.kinds === "*" || r.kinds.includes(o.kind ?? "")),
    );
    if (removed) problems.push(`${id(o)}: apiVersion ${o.apiVersion} was removed in Kubernetes ${removed.removedIn}`);
    const labelName = LABEL_NAMED_KINDS.has(o.kind ?? "");
    if (
      labelName ? !DNS1123_LABEL.test(name) || name.length > 63 : !DNS1123_SUBDOMAIN.test(name) || name.length > 253
    ) {
      problems.push(
        `${id(o)}: name ${JSON.stringify(name)} is not a DNS-1123 ${labelName ? "label (at most 63 characters)" : "subdomain"}`,
      );
    }
    if (
      o.metadata?.namespace !== undefined &&
      (!DNS1123_LABEL.test(o.metadata.namespace) || o.metadata.namespace.length > 63)
    ) {
      problems.push(`${id(o)}: namespace ${JSON.stringify(o.metadata.namespace)} is not a DNS-1123 label`);
    }
    for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
      if (!isLabelKey(k)) problems.push(`${id(o)}: label key ${JSON.stringify(k)} is not valid`);
      else if (!isLabelValue(v)) problems.push(`${id(o)}: label ${k} value ${JSON.stringify(v)} is not valid`);
    }
  }

  const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind ?? ""));
  for (const w of workloads) {
    const spec = (w.spec ?? {}) as WorkloadSpecLike;
    const ns = w.metadata?.namespace;
    const podLabels = spec.template?.metadata?.labels;
    if (!selects(spec.selector?.matchLabels, podLabels)) {
      problems.push(
        `${id(w)}: selector ${JSON.stringify(spec.selector?.matchLabels ?? {})} does not match its pod template's labels`,
      );
    }
    if (w.kind === "StatefulSet" && spec.serviceName && !find("Service", ns, spec.serviceName)) {
      problems.push(`${id(w)}: serviceName ${spec.serviceName} names no Service`);
    }
    const pod = spec.template?.spec ?? {};
    const volumes = new Set([
      ...(pod.volumes ?? []).map((v) => v.name),
      ...(spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name),
    ]);
    for (const c of pod.containers ?? []) {
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name))
          problems.push(`${id(w)}: container ${c.name} mounts volume ${m.name}, which is not defined`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef?.name;
        if (ref && !find("Secret", ns, ref))
          problems.push(`${id(w)}: container ${c.name} reads Secret ${ref}, which is not defined`);
      }
    }
    for (const v of pod.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !find("PersistentVolumeClaim", ns, claim)) {
        problems.push(`${id(w)}: volume ${v.name} claims ${claim}, which is not defined`);
      }
    }
    for (const s of pod.imagePullSecrets ?? []) {
      if (!find("Secret", ns, s.name)) problems.push(`${id(w)}: image pull Secret ${s.name} is not defined`);
    }
  }

  const services = objects.filter((o) => o.kind === "Service");
  for (const svc of services) {
    const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    const ns = svc.metadata?.namespace;
    const matched = workloads.filter(
      (w) => w.metadata?.namespace === ns && selects(selector, (w.spec as WorkloadSpecLike).template?.metadata?.labels),
    );
    if (matched.length === 0)
      problems.push(`${id(svc)}: selector ${JSON.stringify(selector ?? {})} selects no workload's pods`);
  }

  for (const sm of objects.filter((o) => o.kind === "ServiceMonitor")) {
    const spec = sm.spec as {
      selector?: { matchLabels?: Record<string, string> };
      namespaceSelector?: { matchNames?: string[] };
      endpoints?: { port?: string }[];
    };
    const namespaces = spec.namespaceSelector?.matchNames ?? [sm.metadata?.namespace];
    const matched = services.filter(
      (s) => namespaces.includes(s.metadata?.namespace) && selects(spec.selector?.matchLabels, s.metadata?.labels),
    );
    if (matched.length !== 1) {
      problems.push(
        `${id(sm)}: selects ${matched.length} Services (${matched.map((s) => s.metadata?.name).join(", ") || "none"}); it must select exactly one`,
      );
    } else {
      const ports = ((matched[0].spec as { ports?: { name?: string }[] }).ports ?? []).map((p) => p.name);
      for (const e of spec.endpoints ?? []) {
        if (!ports.includes(e.port))
          problems.push(`${id(sm)}: endpoint port ${e.port} is not a port of Service ${matched[0].metadata?.name}`);
      }
    }
  }

  for (const hpa of objects.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
    const spec = hpa.spec as {
      minReplicas?: number;
      maxReplicas: number;
      scaleTargetRef: { kind: string; name: string };
      metrics?: { type: string; pods?: { target: { type: string } }; resource?: { target: { type: string } } }[];
    };
    const min = spec.minReplicas ?? 1;
    if (min < 1 || min > spec.maxReplicas)
      problems.push(`${id(hpa)}: minReplicas ${min} must be from 1 to maxReplicas ${spec.maxReplicas}`);
    if (!find(spec.scaleTargetRef.kind, hpa.metadata?.namespace, spec.scaleTargetRef.name)) {
      problems.push(
        `${id(hpa)}: scaleTargetRef ${spec.scaleTargetRef.kind} ${spec.scaleTargetRef.name} is not defined`,
      );
    }
    for (const m of spec.metrics ?? []) {
      // autoscaling/v2: Pods metrics take only AverageValue targets; Resource metrics Utilization or AverageValue.
      if (m.type === "Pods" && m.pods?.target.type !== "AverageValue") {
        problems.push(`${id(hpa)}: a Pods metric needs an AverageValue target, not ${m.pods?.target.type}`);
      }
      if (m.type === "Resource" && !["Utilization", "AverageValue"].includes(m.resource?.target.type ?? "")) {
        problems.push(
          `${id(hpa)}: a Resource metric needs a Utilization or AverageValue target, not ${m.resource?.target.type}`,
        );
      }
    }
  }
  return problems;
}
