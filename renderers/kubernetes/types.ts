/**
 * Plain Kubernetes object types: @pulumi/kubernetes' input types with every Input unwrapped, so the
 * renderers build data that `tsc` checks field by field (an unknown field is a compile error in an
 * object literal) and that a typed `@pulumi/kubernetes` resource takes as it is. Type-only imports:
 * nothing of Pulumi runs in the renderers.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";

export type Namespace = Unwrap<k8s.types.input.core.v1.Namespace>;
export type Secret = Unwrap<k8s.types.input.core.v1.Secret>;
export type Service = Unwrap<k8s.types.input.core.v1.Service>;
export type PersistentVolumeClaim = Unwrap<k8s.types.input.core.v1.PersistentVolumeClaim>;
export type ConfigMap = Unwrap<k8s.types.input.core.v1.ConfigMap>;
export type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
export type Container = Unwrap<k8s.types.input.core.v1.Container>;
export type StatefulSet = Unwrap<k8s.types.input.apps.v1.StatefulSet>;
export type Deployment = Unwrap<k8s.types.input.apps.v1.Deployment>;
export type HorizontalPodAutoscaler = Unwrap<k8s.types.input.autoscaling.v2.HorizontalPodAutoscaler>;
export type StorageClass = Unwrap<k8s.types.input.storage.v1.StorageClass>;

/**
 * The prometheus-operator ServiceMonitor (monitoring.coreos.com/v1), the fields gpu-fleet sets. It is a
 * custom resource, so @pulumi/kubernetes has no type for it: this interface is the contract, and the
 * object checks (objectChecks.ts) walk it.
 */
export interface ServiceMonitor {
  apiVersion: "monitoring.coreos.com/v1";
  kind: "ServiceMonitor";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: {
      port: string;
      path: string;
      interval: string;
      scrapeTimeout: string;
      relabelings: Record<string, unknown>[];
    }[];
  };
}

/** Anything with a kind and a name, for the checks that look across objects. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}
