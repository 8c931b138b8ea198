/**
 * The EKS runtime's promise, checked on what the program registered: every model fits a node's GPUs
 * with its engine's reservation, replicas and the HPA's maxReplicas fit the node group, pods tolerate
 * the GPU taint and request exactly their GPUs (fleet/kubernetes.ts, the same checks the stack
 * program and the plan run). Stacks without managed node groups have nothing to check.
 */
import { checkRegisteredKubernetesFleet } from "../fleet/kubernetes";
import { stackPolicy } from "./policy";

export const kubernetesFleetFits = stackPolicy({
  name: "kubernetes-fleet-fits",
  description:
    "On Kubernetes, every model must fit the GPUs of the node group its pods select, and replicas and HPA maxReplicas must fit the node group's maximum size.",
  enforcementLevel: "mandatory",
  violations: (resources) =>
    checkRegisteredKubernetesFleet(resources)
      .filter((f) => f.enforcement === "mandatory")
      .map((f) => `[${f.check}] ${f.message}`),
});
