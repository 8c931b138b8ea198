/**
 * Strict validation against the official Kubernetes OpenAPI schemas, as kubernetes-models compiles
 * them. Its validators accept unknown fields (the schemas set no additionalProperties: false), so the
 * object is validated through a proxy that records every property the validator reads: a field the
 * schema does not know is never read, and is reported by its path. Test-only (a devDependency).
 */
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1/StorageClass";

const MODELS: Record<string, { prototype: { validate(): void } }> = {
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "v1/ConfigMap": ConfigMap,
  "apps/v1/StatefulSet": StatefulSet,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "storage.k8s.io/v1/StorageClass": StorageClass,
};

interface Tracked {
  readonly path: string;
  readonly value: Record<string, unknown>;
  readonly read: Set<string>;
}

function track(value: unknown, path: string, seen: Tracked[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}[${i}]`, seen));
  if (value === null || typeof value !== "object") return value;
  const read = new Set<string>();
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = track(v, path === "" ? k : `${path}.${k}`, seen);
  seen.push({ path, value: value as Record<string, unknown>, read });
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === "string") read.add(key);
      return Reflect.has(target, key);
    },
  });
}

/** Schema errors and unknown fields of one object; [] when it is valid. */
export function strictSchemaProblems(object: { apiVersion?: unknown; kind?: unknown }): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const model = MODELS[key];
  if (!model) return [`no schema for ${key}`];
  const seen: Tracked[] = [];
  const proxy = track(JSON.parse(JSON.stringify(object)), "", seen);
  const problems: string[] = [];
  try {
    model.prototype.validate.call(proxy);
  } catch (e) {
    problems.push((e as Error).message);
  }
  for (const t of seen) {
    for (const k of Object.keys(t.value)) {
      if (!t.read.has(k)) problems.push(`unknown field ${t.path === "" ? k : `${t.path}.${k}`}`);
    }
  }
  return problems;
}
