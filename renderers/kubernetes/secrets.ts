/**
 * The NGC API key as Kubernetes Secrets: one the NIM reads as NGC_API_KEY (to download the model), one
 * of type kubernetes.io/dockerconfigjson the kubelet uses to pull nvcr.io images. Pure functions of the
 * key: the component calls them inside a secret Output, so the key reaches only the Secrets' data.
 */
import { NGC_PULL_SECRET_NAME, NGC_SECRET_NAME } from "./nim";
import type { Secret } from "./types";

/** nvcr.io takes the literal user name `$oauthtoken` with the API key as password (NGC user guide). */
export const NGC_REGISTRY = "nvcr.io";
export const NGC_REGISTRY_USER = "$oauthtoken";

/** The `.dockerconfigjson` document for nvcr.io (kubernetes.io/docs/concepts/configuration/secret/#docker-config-secrets). */
export function dockerConfigJson(ngcApiKey: string): string {
  const auth = Buffer.from(`${NGC_REGISTRY_USER}:${ngcApiKey}`).toString("base64");
  return JSON.stringify({ auths: { [NGC_REGISTRY]: { username: NGC_REGISTRY_USER, password: ngcApiKey, auth } } });
}

export function renderNgcApiKeySecret(namespace: string, ngcApiKey: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: NGC_SECRET_NAME, namespace, labels: { "app.kubernetes.io/managed-by": "gpu-fleet" } },
    type: "Opaque",
    stringData: { NGC_API_KEY: ngcApiKey },
  };
}

export function renderNgcPullSecret(namespace: string, ngcApiKey: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: NGC_PULL_SECRET_NAME, namespace, labels: { "app.kubernetes.io/managed-by": "gpu-fleet" } },
    type: "kubernetes.io/dockerconfigjson",
    stringData: { ".dockerconfigjson": dockerConfigJson(ngcApiKey) },
  };
}
