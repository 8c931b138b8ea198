/** The Kubernetes runtime's components: an EKS GPU cluster, a NIM namespace, NIM services on it. */
export * from "./eksGpuCluster";
export * from "./nimNamespace";
export * from "./kubernetesNimService";
export * from "./fleetDashboards";
