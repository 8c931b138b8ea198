/**
 * FleetDashboards: the fleet's NIM and GPU dashboards on the cluster's Grafana, one ConfigMap each.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlannedKubernetesService, PlannedNodeGroup } from "../../fleet/kubernetes";
import { kubernetesDashboardInput, renderDashboardConfigMaps } from "../../renderers/kubernetes/dashboards";
import type { GpuClusterRef } from "./eksGpuCluster";

export interface FleetDashboardsArgs {
  readonly cluster: GpuClusterRef;
  /** The stack's name, in the dashboards' titles and tags. */
  readonly stack: string;
  readonly nodeGroups: readonly PlannedNodeGroup[];
  readonly services: readonly PlannedKubernetesService[];
  /** The NIM services' namespace. */
  readonly namespace: string;
}

export class FleetDashboards extends pulumi.ComponentResource {
  constructor(name: string, args: FleetDashboardsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gpu-fleet:index:FleetDashboards", name, {}, opts);
    const input = kubernetesDashboardInput(args.stack, args.nodeGroups, args.services, args.namespace);
    for (const cm of renderDashboardConfigMaps(input)) {
      new k8s.core.v1.ConfigMap(
        cm.metadata!.name!,
        { metadata: cm.metadata, data: cm.data },
        { parent: this, provider: args.cluster.provider, dependsOn: args.cluster.ready },
      );
    }
    this.registerOutputs({});
  }
}
