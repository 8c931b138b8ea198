import { describe, expect, it } from "vitest";
import { planKubernetesService, resolveNodeGroup } from "../../fleet/kubernetes";
import { renderNamespace, renderNimObjects, NimKubernetesInput } from "../../renderers/kubernetes/nim";
import { checkObjects } from "../../renderers/kubernetes/objectChecks";
import { dockerConfigJson, renderNgcApiKeySecret, renderNgcPullSecret } from "../../renderers/kubernetes/secrets";
import type { KubeObject } from "../../renderers/kubernetes/types";
import { strictSchemaProblems } from "./strictSchema";

const KEY = "nvapi-TEST-0123456789";
const group = resolveNodeGroup({ name: "gpu", maxSize: 3 });

function input(overrides: Partial<NimKubernetesInput> = {}): NimKubernetesInput {
  const { planned } = planKubernetesService(
    {
      name: "llm",
      model: "meta/llama-3.1-8b-instruct",
      nodeGroup: "gpu",
      maxModelLen: 8192,
      autoscaling: { minReplicas: 1, maxReplicas: 3, targetAverageValue: 4 },
    },
    group,
  );
  return { planned, group, cache: { mode: "per-replica", storageClassName: "gp3", sizeGiB: 100 }, ...overrides };
}

function allObjects(i: NimKubernetesInput): KubeObject[] {
  const o = renderNimObjects(i);
  const ns = i.namespace ?? "nim";
  return [
    renderNamespace(ns),
    renderNgcApiKeySecret(ns, KEY),
    renderNgcPullSecret(ns, KEY),
    o.service,
    o.workload.object,
    ...(o.cacheClaim ? [o.cacheClaim] : []),
    ...(o.autoscaler ? [o.autoscaler] : []),
    o.serviceMonitor,
  ] as KubeObject[];
}

const selector = { "app.kubernetes.io/name": "llm", "app.kubernetes.io/component": "model-server" };
const labels = { ...selector, "app.kubernetes.io/managed-by": "gpu-fleet" };

describe("NIM on Kubernetes, one A10G per pod, per-replica EBS cache", () => {
  const objects = renderNimObjects(input());

  it("every object passes the official schema strictly and the cross-object checks", () => {
    const all = allObjects(input());
    expect(all.filter((o) => o.kind !== "ServiceMonitor").map((o) => [o.kind, strictSchemaProblems(o)])).toEqual([
      ["Namespace", []],
      ["Secret", []],
      ["Secret", []],
      ["Service", []],
      ["StatefulSet", []],
      ["HorizontalPodAutoscaler", []],
    ]);
    expect(checkObjects(all)).toEqual([]);
  });

  it("the namespace enforces Pod Security restricted at the cluster's version", () => {
    expect(renderNamespace().metadata).toEqual({
      name: "nim",
      labels: {
        "app.kubernetes.io/managed-by": "gpu-fleet",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.35",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "v1.35",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "v1.35",
      },
    });
  });

  it("a StatefulSet updated in place, one pod at a time, keeping its cache volumes", () => {
    expect(objects.workload.kind).toBe("StatefulSet");
    const { template, ...spec } = objects.workload.object.spec!;
    expect(spec).toEqual({
      serviceName: "llm",
      replicas: 1,
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      selector: { matchLabels: selector },
      volumeClaimTemplates: [
        {
          metadata: { name: "model-cache", labels },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "gp3",
            resources: { requests: { storage: "100Gi" } },
          },
        },
      ],
    });
    expect(template.metadata).toEqual({ labels, annotations: { "gpu-fleet.dev/model": "meta/llama-3.1-8b-instruct" } });
  });

  it("the pod: restricted security context, the GPU node group's selector and taint, the nvcr.io pull secret", () => {
    const { containers, ...pod } = objects.workload.object.spec!.template.spec!;
    expect(pod).toEqual({
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      },
      nodeSelector: { "gpu-fleet.dev/node-group": "gpu" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      imagePullSecrets: [{ name: "nvcr-pull" }],
      terminationGracePeriodSeconds: 60,
      volumes: [],
    });
    expect(containers).toEqual([
      {
        name: "model-server",
        image: "nvcr.io/nim/meta/llama-3.1-8b-instruct:latest",
        ports: [{ name: "http", containerPort: 8000, protocol: "TCP" }],
        env: [
          { name: "NIM_CACHE_PATH", value: "/opt/nim/.cache" },
          { name: "NIM_TENSOR_PARALLEL_SIZE", value: "1" },
          { name: "NIM_MAX_MODEL_LEN", value: "8192" },
          { name: "NIM_GPU_MEMORY_UTILIZATION", value: "0.9" },
          { name: "NGC_API_KEY", valueFrom: { secretKeyRef: { name: "ngc-api-key", key: "NGC_API_KEY" } } },
        ],
        // g5.xlarge: 4 vCPUs − 80m kubelet − 500m daemons = 3420m → 3400m; 16,384 MiB − 993 MiB kubelet and
        // eviction (58 pods) − 1,536 MiB daemons = 13,855 MiB → 13,824 MiB.
        resources: {
          requests: { "nvidia.com/gpu": "1", cpu: "3400m", memory: "13824Mi" },
          limits: { "nvidia.com/gpu": "1", memory: "13824Mi" },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          runAsNonRoot: true,
          runAsUser: 1000,
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [{ name: "model-cache", mountPath: "/opt/nim/.cache" }],
        // 240 × 10 s = 40 minutes for a cold download before the kubelet gives up.
        startupProbe: {
          httpGet: { path: "/v1/health/ready", port: "http" },
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 240,
        },
        readinessProbe: {
          httpGet: { path: "/v1/health/ready", port: "http" },
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
        livenessProbe: {
          httpGet: { path: "/v1/health/live", port: "http" },
          periodSeconds: 20,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
      },
    ]);
  });

  it("a ClusterIP Service, an autoscaling/v2 HPA on num_requests_running, a ServiceMonitor on /v1/metrics", () => {
    expect(objects.service).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "llm", namespace: "nim", labels },
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }],
      },
    });
    expect(objects.autoscaler).toEqual({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "llm", namespace: "nim", labels },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: "llm" },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          {
            type: "Pods",
            pods: { metric: { name: "num_requests_running" }, target: { type: "AverageValue", averageValue: "4" } },
          },
        ],
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 120 }] },
          scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: "Pods", value: 1, periodSeconds: 300 }] },
        },
      },
    });
    expect(objects.serviceMonitor).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "llm", namespace: "nim", labels },
      spec: {
        selector: { matchLabels: selector },
        namespaceSelector: { matchNames: ["nim"] },
        endpoints: [
          {
            port: "http",
            path: "/v1/metrics",
            interval: "15s",
            scrapeTimeout: "10s",
            // The labels the fleet's NIM dashboard selects on: job as on hosts, host = the node.
            relabelings: [
              { action: "replace", targetLabel: "job", replacement: "nim" },
              { action: "replace", sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "host" },
            ],
          },
        ],
      },
    });
    expect(objects.cacheClaim).toBeUndefined();
  });
});

describe("tensor parallelism 2 on g5.12xlarge, shared EFS cache", () => {
  const big = resolveNodeGroup({ name: "big", instanceType: "g5.12xlarge", maxSize: 2 });
  const { planned, findings } = planKubernetesService(
    {
      name: "llm",
      model: "meta/llama-3.1-8b-instruct",
      nodeGroup: "big",
      tensorParallel: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 4, metric: "gpu_cache_usage_perc", targetAverageValue: 0.75 },
    },
    big,
  );
  const i: NimKubernetesInput = {
    planned,
    group: big,
    cache: { mode: "shared", storageClassName: "efs", sizeGiB: 200 },
  };
  const o = renderNimObjects(i);

  it("plans without findings but the PCIe advisory", () => {
    expect(findings.map((f) => `${f.enforcement} ${f.check}`)).toEqual(["advisory tensor-parallel-over-pcie"]);
  });

  it("a Deployment that never surges, one ReadWriteMany claim, /dev/shm in memory and 2 GPUs per pod", () => {
    expect(o.workload.kind).toBe("Deployment");
    if (o.workload.kind !== "Deployment") return;
    const spec = o.workload.object.spec!;
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(spec.replicas).toBe(2);
    expect(spec.template.spec!.volumes).toEqual([
      { name: "model-cache", persistentVolumeClaim: { claimName: "llm-cache" } },
      { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } },
    ]);
    const c = spec.template.spec!.containers[0];
    expect(c.volumeMounts).toEqual([
      { name: "model-cache", mountPath: "/opt/nim/.cache" },
      { name: "dshm", mountPath: "/dev/shm" },
    ]);
    // g5.12xlarge holds two TP-2 pods: (48,000m − 190m − 500m) / 2 = 23,655m → 23,600m; (196,608 MiB −
    // 8,462 MiB (737 pods) − 1,536 MiB) / 2 = 93,305 MiB → 93,184 MiB.
    expect(c.resources).toEqual({
      requests: { "nvidia.com/gpu": "2", cpu: "23600m", memory: "93184Mi" },
      limits: { "nvidia.com/gpu": "2", memory: "93184Mi" },
    });
    expect(c.env!.map((e) => `${e.name}=${e.value ?? "(secret)"}`)).toEqual([
      "NIM_CACHE_PATH=/opt/nim/.cache",
      "NIM_TENSOR_PARALLEL_SIZE=2",
      "NIM_MAX_MODEL_LEN=131072",
      "NCCL_DEBUG=WARN",
      "NGC_API_KEY=(secret)",
    ]);
    expect(o.cacheClaim).toEqual({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "llm-cache", namespace: "nim", labels },
      spec: { accessModes: ["ReadWriteMany"], storageClassName: "efs", resources: { requests: { storage: "200Gi" } } },
    });
    expect(o.autoscaler!.spec!.metrics).toEqual([
      {
        type: "Pods",
        pods: { metric: { name: "gpu_cache_usage_perc" }, target: { type: "AverageValue", averageValue: "750m" } },
      },
    ]);
    expect(o.autoscaler!.spec!.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "llm" });
  });

  it("passes the strict schema and the object checks", () => {
    const all = allObjects(i);
    expect(all.filter((x) => x.kind !== "ServiceMonitor").flatMap((x) => strictSchemaProblems(x))).toEqual([]);
    expect(checkObjects(all)).toEqual([]);
  });
});

describe("a model without a NIM runs vLLM's image as uid 1000 with its cache under HF_HOME", () => {
  const { planned } = planKubernetesService(
    { name: "chat", model: "microsoft/DialoGPT-medium", nodeGroup: "gpu" },
    group,
  );
  const o = renderNimObjects({ planned, group, cache: { mode: "per-replica", storageClassName: "gp3", sizeGiB: 20 } });
  const pod = o.workload.object.spec!.template.spec!;

  it("no NGC secrets, no pull secret, /health probes and /metrics scraped", () => {
    const c = pod.containers[0];
    expect(c.env).toEqual([
      { name: "HF_HOME", value: "/data/hf-cache" },
      { name: "HOME", value: "/data/hf-cache" },
    ]);
    expect(pod.imagePullSecrets).toBeUndefined();
    expect(c.volumeMounts).toEqual([{ name: "model-cache", mountPath: "/data/hf-cache" }]);
    expect([c.startupProbe!.httpGet!.path, c.readinessProbe!.httpGet!.path, c.livenessProbe!.httpGet!.path]).toEqual([
      "/health",
      "/health",
      "/health",
    ]);
    expect(c.args!.slice(0, 2)).toEqual(["--model", "microsoft/DialoGPT-medium"]);
    expect(o.serviceMonitor.spec.endpoints[0].path).toBe("/metrics");
    expect(strictSchemaProblems(o.workload.object)).toEqual([]);
  });
});

describe("the NGC key reaches only the Secrets' data", () => {
  it("nvcr.io credentials for $oauthtoken", () => {
    expect(JSON.parse(dockerConfigJson(KEY))).toEqual({
      auths: {
        "nvcr.io": {
          username: "$oauthtoken",
          password: KEY,
          auth: Buffer.from(`$oauthtoken:${KEY}`).toString("base64"),
        },
      },
    });
    expect(renderNgcPullSecret("nim", KEY).type).toBe("kubernetes.io/dockerconfigjson");
    expect(renderNgcApiKeySecret("nim", KEY).stringData).toEqual({ NGC_API_KEY: KEY });
  });

  it("no rendered workload, Service, HPA or ServiceMonitor contains the key", () => {
    const o = renderNimObjects(input());
    expect(JSON.stringify(o)).not.toContain(KEY);
  });
});

describe("the strict schema validation refuses what the plain validator lets through", () => {
  const sts = () => JSON.parse(JSON.stringify(renderNimObjects(input()).workload.object));

  it("an unknown field, by path", () => {
    const o = sts();
    o.spec.template.spec.containers[0].gpus = 1;
    o.spec.updateStrategy.maxSurge = 0;
    expect(strictSchemaProblems(o)).toEqual([
      "unknown field spec.updateStrategy.maxSurge",
      "unknown field spec.template.spec.containers[0].gpus",
    ]);
  });

  it("a wrong type", () => {
    const o = sts();
    o.spec.replicas = "two";
    expect(strictSchemaProblems(o)).toEqual(["data/spec/replicas must be integer"]);
  });
});

describe("the cross-object checks", () => {
  const base = () => JSON.parse(JSON.stringify(allObjects(input()))) as any[];
  const kind = (all: any[], k: string) => all.find((o) => o.kind === k);

  it("a workload selector its pods do not carry", () => {
    const all = base();
    kind(all, "StatefulSet").spec.selector.matchLabels["app.kubernetes.io/name"] = "other";
    expect(checkObjects(all)).toEqual([
      'StatefulSet nim/llm: selector {"app.kubernetes.io/name":"other","app.kubernetes.io/component":"model-server"} does not match its pod template\'s labels',
    ]);
  });

  it("a ServiceMonitor that selects two Services, and one that selects none", () => {
    const all = base();
    all.push({ ...kind(all, "Service"), metadata: { ...kind(all, "Service").metadata, name: "llm-headless" } });
    expect(checkObjects(all)).toEqual([
      "ServiceMonitor nim/llm: selects 2 Services (llm, llm-headless); it must select exactly one",
    ]);
    const none = base();
    kind(none, "ServiceMonitor").spec.namespaceSelector.matchNames = ["default"];
    expect(checkObjects(none)).toEqual([
      "ServiceMonitor nim/llm: selects 0 Services (none); it must select exactly one",
    ]);
  });

  it("an HPA whose minReplicas exceeds maxReplicas, with a Utilization target on a Pods metric", () => {
    const all = base();
    const hpa = kind(all, "HorizontalPodAutoscaler");
    hpa.spec.minReplicas = 4;
    hpa.spec.metrics[0].pods.target.type = "Utilization";
    expect(checkObjects(all)).toEqual([
      "HorizontalPodAutoscaler nim/llm: minReplicas 4 must be from 1 to maxReplicas 3",
      "HorizontalPodAutoscaler nim/llm: a Pods metric needs an AverageValue target, not Utilization",
    ]);
  });

  it("a removed API version, a name that is not DNS-1123, a missing Secret", () => {
    const all = base();
    kind(all, "HorizontalPodAutoscaler").apiVersion = "autoscaling/v2beta2";
    kind(all, "Service").metadata.name = "LLM_svc";
    const secrets = all.filter((o) => o.kind !== "Secret" || o.metadata.name !== "ngc-api-key");
    expect(checkObjects(secrets)).toEqual([
      'Service nim/LLM_svc: name "LLM_svc" is not a DNS-1123 label (at most 63 characters)',
      "HorizontalPodAutoscaler nim/llm: apiVersion autoscaling/v2beta2 was removed in Kubernetes 1.26",
      "StatefulSet nim/llm: serviceName llm names no Service",
      "StatefulSet nim/llm: container model-server reads Secret ngc-api-key, which is not defined",
    ]);
  });
});

describe("vLLM's KV-cache dtype and batched-token budget reach the pod as the Docker host's env", () => {
  it("NIM_PASSTHROUGH_ARGS carries them, between the NIM settings and the NGC key", () => {
    const { planned } = planKubernetesService(
      {
        name: "llm",
        model: "meta/llama-3.1-8b-instruct",
        nodeGroup: "gpu",
        maxModelLen: 8192,
        kvCacheDtype: "fp8",
        maxNumBatchedTokens: 4096,
      },
      group,
    );
    const objects = renderNimObjects({
      planned,
      group,
      cache: { mode: "per-replica", storageClassName: "gp3", sizeGiB: 100 },
    });
    expect(objects.workload.object.spec!.template.spec!.containers[0].env).toEqual([
      { name: "NIM_CACHE_PATH", value: "/opt/nim/.cache" },
      { name: "NIM_TENSOR_PARALLEL_SIZE", value: "1" },
      { name: "NIM_MAX_MODEL_LEN", value: "8192" },
      { name: "NIM_GPU_MEMORY_UTILIZATION", value: "0.9" },
      { name: "NIM_PASSTHROUGH_ARGS", value: "--kv-cache-dtype fp8 --max-num-batched-tokens 4096" },
      { name: "NGC_API_KEY", valueFrom: { secretKeyRef: { name: "ngc-api-key", key: "NGC_API_KEY" } } },
    ]);
  });
});
