/**
 * NimNamespace: the namespace NIM services run in, with Pod Security `restricted` enforced, and the NGC
 * API key as two Secrets (the NIM's NGC_API_KEY and the nvcr.io image pull secret). The key reaches the
 * Secrets' data only, as a secret Output.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DNS1123_LABEL } from "../../fleet/kubernetes";
import {
  DEFAULT_NAMESPACE,
  NGC_PULL_SECRET_NAME,
  NGC_SECRET_NAME,
  renderNamespace,
} from "../../renderers/kubernetes/nim";
import { renderNgcApiKeySecret, renderNgcPullSecret } from "../../renderers/kubernetes/secrets";
import type { GpuClusterRef } from "./eksGpuCluster";

export interface NimNamespaceArgs {
  readonly cluster: Pick<GpuClusterRef, "provider">;
  /** Default "nim". */
  readonly namespace?: string;
  /** NGC API key for model downloads and nvcr.io pulls. Pass a secret. */
  readonly ngcApiKey: pulumi.Input<string>;
}

/** What a NIM service needs of its namespace. */
export interface NimNamespaceRef {
  readonly name: string;
  readonly ready: pulumi.Resource[];
}

export class NimNamespace extends pulumi.ComponentResource implements NimNamespaceRef {
  public readonly name: string;
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: NimNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    const namespace = args.namespace ?? DEFAULT_NAMESPACE;
    if (!DNS1123_LABEL.test(namespace) || namespace.length > 63) {
      throw new Error(`NimNamespace "${name}": namespace: ${JSON.stringify(namespace)} is not a DNS-1123 label`);
    }
    super("gpu-fleet:index:NimNamespace", name, {}, opts);
    this.name = namespace;
    const provider = args.cluster.provider;
    const ns = renderNamespace(namespace);
    const nsResource = new k8s.core.v1.Namespace(name, { metadata: ns.metadata }, { parent: this, provider });
    const key = pulumi.secret(args.ngcApiKey);
    const secret = (suffix: string, render: (ns: string, key: string) => ReturnType<typeof renderNgcApiKeySecret>) => {
      const shape = render(namespace, "");
      return new k8s.core.v1.Secret(
        `${name}-${suffix}`,
        {
          metadata: shape.metadata,
          type: shape.type,
          stringData: key.apply((k) => render(namespace, k).stringData!),
        },
        { parent: this, provider, dependsOn: [nsResource] },
      );
    };
    const apiKey = secret(NGC_SECRET_NAME, renderNgcApiKeySecret);
    const pull = secret(NGC_PULL_SECRET_NAME, renderNgcPullSecret);
    this.ready = [nsResource, apiKey, pull];
    this.registerOutputs({});
  }
}
