import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  MockRecorder,
  isSecretInput,
  isSecretOutput,
  promiseOf,
  settle,
  setupMocks,
  resourcesRevealing,
} from "../helpers/pulumiMocks";
import type { FleetPlan } from "../../fleet";
import { GPU0_AND_LLM_RESOURCES } from "../helpers/gpuHostResources";

// Modules that read config or create resources are imported after the mocks are set (STYLE.md).
let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");
let renderers: {
  cloudInit: typeof import("../../renderers/host/cloudInit");
  provision: typeof import("../../renderers/host/provision");
  verify: typeof import("../../renderers/host/verifyGpus");
  container: typeof import("../../renderers/container/container");
  serviceSpec: typeof import("../../renderers/nim/serviceSpec");
};

const NGC_KEY = "nvapi-TEST0000000000000000000000000000000000000000000000000000000000";
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTPRIVATEKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC test";

function devPlan(): FleetPlan {
  return fleet.planFleet(
    fleet.validateFleetConfig({
      ngcApiKey: "secret",
      hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
      services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 }],
    }),
  );
}

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks();
  fleet = await import("../../fleet");
  components = await import("../../components");
  renderers = {
    cloudInit: await import("../../renderers/host/cloudInit"),
    provision: await import("../../renderers/host/provision"),
    verify: await import("../../renderers/host/verifyGpus"),
    container: await import("../../renderers/container/container"),
    serviceSpec: await import("../../renderers/nim/serviceSpec"),
  };
});

describe("GpuHost and NimService on the dev plan (g5.xlarge, llama-3.1-8b-instruct on GPU 0)", () => {
  let host: import("../../components").GpuHost;
  let llm: import("../../components").NimService;
  let plan: FleetPlan;

  beforeAll(async () => {
    plan = devPlan();
    // The README's flat args: the host estimates, places and checks its services itself.
    host = new components.GpuHost("gpu0", {
      instanceType: "g5.xlarge",
      services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", gpus: [0], maxModelLen: 8192 }],
      sshPrivateKey: pulumi.secret(PRIVATE_KEY),
      sshPublicKey: PUBLIC_KEY,
    });
    llm = new components.NimService("llm", { host, service: "llm", ngcApiKey: pulumi.secret(NGC_KEY) });
    await promiseOf(llm.endpoint);
    await settle();
  });

  it("registers exactly these children", () => {
    expect(mocks.registrations.map((r) => `${r.type} ${r.name}`).sort()).toEqual([...GPU0_AND_LLM_RESOURCES].sort());
  });

  it("boots the instance with IMDSv2 only, an encrypted root volume and the cloud-init user data", () => {
    const instance = mocks.byName("gpu0-instance").inputs;
    expect(instance.instanceType).toBe("g5.xlarge");
    expect(instance.ami).toBe("ami-0123456789abcdef0");
    expect(instance.availabilityZone).toBe("us-east-1a");
    expect(instance.metadataOptions).toEqual({
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 2,
    });
    expect(instance.rootBlockDevice).toEqual({
      volumeSize: 100,
      volumeType: "gp3",
      encrypted: true,
      deleteOnTermination: true,
    });
    expect(instance.userData).toBe(
      renderers.cloudInit.renderCloudInit({ host: "gpu0", gpuModel: "A10G", gpuCount: 1 }),
    );
    expect(instance.userDataReplaceOnChange).toBe(true);
    expect(instance.keyName).toBe("gpu0-key-kp");
    expect(instance.iamInstanceProfile).toBe("gpu0-profile-profile");
    expect(instance.tags).toEqual({ "gpu-fleet:host": "gpu0", Name: "gpu-fleet-gpu0" });
  });

  it("keeps data on a separate encrypted volume in the instance's zone, attached as /dev/sdf", () => {
    expect(mocks.byName("gpu0-data").inputs).toEqual({
      availabilityZone: "us-east-1a",
      size: 500,
      type: "gp3",
      encrypted: true,
      tags: { "gpu-fleet:host": "gpu0", Name: "gpu-fleet-gpu0-data" },
    });
    expect(mocks.byName("gpu0-data-attachment").inputs).toEqual({
      deviceName: "/dev/sdf",
      instanceId: "gpu0-instance-id",
      volumeId: "gpu0-data-id",
      stopInstanceBeforeDetaching: true,
    });
  });

  it("keeps the data volume through replacement and destroy, and no AMI release replaces the host", () => {
    expect(mocks.optionsOf("gpu0-data")).toMatchObject({ retainOnDelete: true, deleteBeforeReplace: false });
    expect(mocks.optionsOf("gpu0-data-attachment")).toMatchObject({ deleteBeforeReplace: true });
    expect(mocks.optionsOf("gpu0-instance").ignoreChanges).toEqual(["ami"]);
  });

  it("opens no SSH by default and lets everything out", () => {
    const sg = mocks.byName("gpu0-sg").inputs;
    expect(sg.ingress).toEqual([]);
    expect(sg.egress).toEqual([
      { description: "all outbound", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
    ]);
  });

  it("registers the key pair from the public key and gives the role Session Manager access only", () => {
    expect(mocks.byName("gpu0-key").inputs).toEqual({ publicKey: PUBLIC_KEY, tags: { "gpu-fleet:host": "gpu0" } });
    expect(mocks.byName("gpu0-ssm-core").inputs).toEqual({
      role: "gpu0-role-role",
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    });
    expect(JSON.parse(mocks.byName("gpu0-role").inputs.assumeRolePolicy)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
  });

  it("runs the rendered provisioning and GPU verification scripts over a secret SSH connection to the private IP", () => {
    const provision = mocks.byName("gpu0-provision").inputs;
    expect(provision.create).toBe(renderers.provision.renderProvisionScript({ host: "gpu0", dataVolume: "ebs" }));
    expect(isSecretInput(provision.connection)).toBe(true);
    expect(provision.connection.value).toEqual({
      host: "10.0.1.23",
      port: 22,
      user: "ubuntu",
      privateKey: PRIVATE_KEY,
      dialErrorLimit: 60,
      perDialTimeout: 10,
    });
    expect(provision.triggers).toEqual(["gpu0-instance-id"]);
    expect(mocks.byName("gpu0-verify-gpus").inputs.create).toBe(
      renderers.verify.renderGpuVerifyScript({
        host: "gpu0",
        nvidiaSmiName: "NVIDIA A10G",
        gpuCount: 1,
        memoryMiB: 23028,
      }),
    );
  });

  it("writes the host ledger as the plain stdin of a real resource, where policies can read it", () => {
    const ledger = JSON.parse(mocks.byName("gpu0-ledger").inputs.stdin);
    expect(ledger.kind).toBe("gpu-fleet/host-ledger");
    expect(ledger.gpus).toEqual([
      {
        index: 0,
        model: "A10G",
        memoryMiB: 23028,
        usableMiB: 21876,
        reservedMiB: 20334,
        outsideReservationMiB: 0,
        chargedMiB: 20334,
        headroomMiB: 1542,
        reservations: [{ service: "llm", reservedMiB: 20334, outsideReservationMiB: 0 }],
      },
    ]);
    expect(ledger.services).toEqual([
      {
        name: "llm",
        model: "meta/llama-3.1-8b-instruct",
        gpus: [0],
        tensorParallel: 1,
        precision: "bf16",
        engine: "vllm",
        gpuMemoryUtilization: 0.9,
        reservedMiBPerGpu: 20334,
        // CUDA context 544 + graph pool 512 + 18 × 32 layers: charged only if another engine joins GPU 0.
        outsideReservationMiBPerGpu: 1632,
        kvCacheDtype: "auto",
        maxNumBatchedTokens: 2048,
        weightsMiBPerGpu: 15317,
        overheadMiB: 1510,
        kvBytesPerTokenPerGpu: 131072,
        maxModelLen: 8192,
      },
    ]);
  });

  it("delivers the NGC key only as secret stdin, as the env file line", () => {
    const key = mocks.byName("llm-ngc-key").inputs;
    expect(isSecretInput(key.stdin)).toBe(true);
    expect(key.stdin.value).toBe(`NGC_API_KEY=${NGC_KEY}\n`);
    expect(key.create).toContain("target='/etc/gpu-fleet/nim/llm.env'");
    expect(key.create).toContain("as_root install -m 0600");
  });

  it("never puts the NGC key or the private key into any other input", () => {
    // The detector finds what is in plain inputs: the public key is, by design.
    expect(resourcesRevealing(mocks, "AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf")).toEqual([
      "aws:ec2/keyPair:KeyPair gpu0-key",
    ]);
    expect(resourcesRevealing(mocks, NGC_KEY)).toEqual([]);
    expect(resourcesRevealing(mocks, "TESTPRIVATEKEYMATERIAL")).toEqual([]);
  });

  it("plans exactly what planFleet plans for the same stack", () => {
    expect(host.plan).toEqual(plan.hosts[0]);
    expect(host.services).toEqual(plan.services);
    expect(llm.planned).toEqual(plan.services[0]);
  });

  it("starts the container pinned to GPU 0 with the plan's settings, and re-runs only when the spec changes", () => {
    const container = mocks.byName("llm-container").inputs;
    const spec = renderers.serviceSpec.containerSpecFor(plan.services[0], plan.hosts[0]);
    expect(container.create).toBe(renderers.container.renderContainerStartScript(spec));
    expect(container.delete).toBe(renderers.container.renderContainerStopScript("llm"));
    expect(container.create).toContain(`--gpus '"device=0"'`);
    expect(container.create).toContain(`-e 'NIM_TENSOR_PARALLEL_SIZE=1'`);
    expect(container.create).toContain(`-e 'NIM_MAX_MODEL_LEN=8192'`);
    expect(container.create).toContain(`-e 'NIM_GPU_MEMORY_UTILIZATION=0.9'`);
    expect(container.create).toContain(`-v '/data/nim-cache/llm:/opt/nim/.cache'`);
    expect(container.create).toContain(`-p "$bind:8000:8000"`);
    expect(container.create).toContain(`--env-file '/etc/gpu-fleet/nim/llm.env'`);
    expect(container.create).toContain("2400");
    expect(container.triggers).toEqual([renderers.container.containerSpecHash(spec), "llm-ngc-key-id"]);
  });

  it("exposes the endpoint, the GPU inventory and a secret connection", async () => {
    expect(await promiseOf(llm.endpoint)).toBe("http://10.0.1.23:8000");
    expect(llm.gpus).toEqual([0]);
    expect(llm.tensorParallel).toBe(1);
    expect(llm.reservedMiBPerGpu).toBe(20334);
    expect(host.gpus).toEqual([{ index: 0, model: "A10G", memoryMiB: 23028 }]);
    expect(await isSecretOutput(host.connection)).toBe(true);
  });
});

describe("validation before anything is registered", () => {
  const ec2 = (services: unknown[] = []) => ({
    instanceType: "g5.xlarge",
    services: services as import("../../fleet").ServiceSettings[],
    sshPrivateKey: pulumi.secret(PRIVATE_KEY),
    sshPublicKey: PUBLIC_KEY,
  });
  const llmHost = (name: string) =>
    new components.GpuHost(name, ec2([{ name: "llm", model: "meta/llama-3.1-8b-instruct", maxModelLen: 8192 }]));
  it.each([
    [
      "an EC2 host without a public key",
      () => new components.GpuHost("bad0", { instanceType: "g5.xlarge", sshPrivateKey: pulumi.secret(PRIVATE_KEY) }),
      `GpuHost "bad0": sshPublicKey: is required for an EC2 host; it is registered as the instance's key pair`,
    ],
    [
      "instanceType auto, which only planFleet decides",
      () => new components.GpuHost("bad1", { ...ec2(), instanceType: "auto" }),
      `GpuHost "bad1": instanceType: "auto" is chosen across the fleet by planFleet; a GpuHost needs a catalog type: g4dn.xlarge, g5.xlarge,`,
    ],
    [
      "a device the instance does not have, keyed by the arg",
      () => new components.GpuHost("bad2", ec2([{ name: "llm", model: "meta/llama-3.1-8b-instruct", gpus: [1] }])),
      `GpuHost "bad2": services[0].gpus[0]: device 1 does not exist on host "bad2" (g5.xlarge has GPU 0 only)`,
    ],
    [
      "two services with one name",
      () =>
        new components.GpuHost(
          "bad3",
          ec2([
            { name: "emb", model: "nvidia/nv-embedqa-e5-v5" },
            { name: "emb", model: "nvidia/nv-embedqa-e5-v5" },
          ]),
        ),
      `GpuHost "bad3": services[1].name: duplicate service name "emb"; service names must be unique`,
    ],
    [
      "a NIM without an NGC key",
      () => new components.NimService("nokey", { host: llmHost("ok0"), service: "llm" }),
      `NimService "nokey": ngcApiKey: is required to pull nvcr.io/nim/meta/llama-3.1-8b-instruct:latest; pass a secret (the stack reads gpu-fleet:ngcApiKey, set with \`pulumi config set --secret\`)`,
    ],
    [
      "a readiness bound under 30 minutes",
      () =>
        new components.NimService("quick", {
          host: llmHost("ok1"),
          service: "llm",
          ngcApiKey: pulumi.secret(NGC_KEY),
          readyTimeoutSeconds: 600,
        }),
      `NimService "quick": readyTimeoutSeconds: 600 is too short; expected a whole number of seconds >= 1800 (cold NIM caches download tens of GB)`,
    ],
    [
      "a service its host does not place",
      () =>
        new components.NimService("emb", { host: llmHost("ok2"), service: "emb", ngcApiKey: pulumi.secret(NGC_KEY) }),
      `NimService "emb": service: "emb" is not a service of host "ok2" (its services: "llm"); add it to the host's services or pass its settings`,
    ],
    [
      "settings for a service on a host that checks its own services (its ledger would not hold it)",
      () =>
        new components.NimService("emb2", {
          host: llmHost("ok3"),
          service: { name: "emb2", model: "nvidia/nv-embedqa-e5-v5" },
          ngcApiKey: pulumi.secret(NGC_KEY),
        }),
      `NimService "emb2": service: host "ok3" places and checks its own services; add "emb2" to the host's services and pass service: "emb2"`,
    ],
    [
      "a KV-cache dtype vLLM does not know, keyed by the arg",
      () =>
        new components.GpuHost(
          "bad4",
          ec2([{ name: "llm", model: "meta/llama-3.1-8b-instruct", maxModelLen: 8192, kvCacheDtype: "fp16" }]),
        ),
      `GpuHost "bad4": services[0].kvCacheDtype: "fp16" is not allowed; expected auto or fp8`,
    ],
    [
      "a batched-token budget on an encoder, which has none",
      () =>
        new components.GpuHost(
          "bad5",
          ec2([{ name: "emb", model: "nvidia/nv-embedqa-e5-v5", maxNumBatchedTokens: 4096 }]),
        ),
      `GpuHost "bad5": services[0].maxNumBatchedTokens: 4096 cannot be set for nvidia/nv-embedqa-e5-v5 (kind: embedding): its encoder engine schedules no token batches; remove maxNumBatchedTokens`,
    ],
  ])("rejects %s", async (_what, build, message) => {
    // Built once: the hosts the NimService cases make are registered (with their own names).
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect((error as Error).message).toContain(message);
    await settle();
    expect(
      mocks.registrations.filter((r) =>
        ["bad0", "bad1", "bad2", "bad3", "bad4", "bad5", "nokey", "quick", "emb", "emb2"].some(
          (n) => r.name === n || r.name.startsWith(`${n}-`),
        ),
      ),
    ).toEqual([]);
  });
});

describe("a NimService on a machine the user brings (a GpuHostRef without services)", () => {
  const byo = () => ({
    name: "byo",
    connection: pulumi.secret({ host: "10.0.9.9", user: "ops", privateKey: PRIVATE_KEY }),
    privateAddress: "10.0.9.9",
    paths: { configDir: "/etc/gpu-fleet", dataDir: "/srv/models" },
    bindAddress: "private",
    gpus: [{ index: 0, model: "L4", memoryMiB: 23034 }],
    ready: [],
  });

  it("estimates and checks its own service: without maxModelLen it is refused during up, nothing registered", async () => {
    const build = () =>
      new components.NimService("byo-llm", {
        host: byo(),
        service: { name: "llm", model: "meta/llama-3.1-8b-instruct", gpus: [0] },
        ngcApiKey: pulumi.secret(NGC_KEY),
      });
    expect(build).toThrow(pulumi.ResourceError);
    expect(build).toThrow(
      /^NimService "byo-llm": 1 mandatory GPU finding\(s\); nothing was created:\n\[model-fits-reservation\] NimService "byo-llm": service \(llm\) needs [\d,]+ MiB per GPU .* set maxModelLen <= [\d,]+ or give it more GPUs$/,
    );
    await settle();
    expect(mocks.registrations.filter((r) => r.name.startsWith("byo-llm"))).toEqual([]);
  });

  it("runs a service that fits with exactly its own resources, on the host's paths and address", async () => {
    const svc = new components.NimService("byo-emb", {
      host: byo(),
      service: { name: "emb", model: "nvidia/nv-embedqa-e5-v5", gpus: [0] },
      ngcApiKey: pulumi.secret(NGC_KEY),
    });
    expect(await promiseOf(svc.endpoint)).toBe("http://10.0.9.9:8000");
    await settle();
    expect(
      mocks.registrations
        .filter((r) => r.name.startsWith("byo-emb"))
        .map((r) => r.name)
        .sort(),
    ).toEqual(["byo-emb", "byo-emb-container", "byo-emb-ngc-key"]);
    expect(mocks.byName("byo-emb-container").inputs.create).toContain(`-v '/srv/models/nim-cache/emb:/opt/nim/.cache'`);
    expect(svc.serviceName).toBe("emb");
    expect(svc.hostName).toBe("byo");
    expect(svc.metrics).toBe("nim");
  });
});

describe("vLLM's settings on a machine the user brings", () => {
  it("hands the KV-cache dtype and the batched-token budget to the NIM as NIM_PASSTHROUGH_ARGS", async () => {
    const svc = new components.NimService("byo-kv", {
      host: {
        name: "byo2",
        connection: pulumi.secret({ host: "10.0.9.8", user: "ops", privateKey: PRIVATE_KEY }),
        privateAddress: "10.0.9.8",
        paths: { configDir: "/etc/gpu-fleet", dataDir: "/srv/models" },
        bindAddress: "private",
        gpus: [{ index: 0, model: "L4", memoryMiB: 23034 }],
        ready: [],
      },
      service: {
        name: "llm",
        model: "meta/llama-3.1-8b-instruct",
        gpus: [0],
        maxModelLen: 8192,
        kvCacheDtype: "fp8",
        maxNumBatchedTokens: 4096,
      },
      ngcApiKey: pulumi.secret(NGC_KEY),
    });
    await promiseOf(svc.endpoint);
    await settle();
    expect([svc.planned.kvCacheDtype, svc.planned.maxNumBatchedTokens, svc.planned.estimate.engine]).toEqual([
      "fp8",
      4096,
      "vllm",
    ]);
    expect(mocks.byName("byo-kv-container").inputs.create).toContain(
      `-e 'NIM_PASSTHROUGH_ARGS=--kv-cache-dtype fp8 --max-num-batched-tokens 4096'`,
    );
  });
});

describe("engines sharing a GPU inside GpuHost", () => {
  it("refuses two vLLM engines whose reservations fit an A100 but not with what each keeps outside them", async () => {
    const services = [
      { name: "chat", model: "meta/llama-2-7b-chat", gpus: [3], gpuMemoryUtilization: 0.5, maxModelLen: 2048 },
      { name: "small", model: "microsoft/DialoGPT-medium", gpus: [3], gpuMemoryUtilization: 0.45 },
    ];
    const build = () =>
      new components.GpuHost("shared", {
        existing: { address: "10.0.0.7", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 },
        services,
        sshPrivateKey: pulumi.secret(PRIVATE_KEY),
      });
    expect(build).toThrow(pulumi.ResourceError);
    expect(build).toThrow(
      'host "shared" GPU 3 (A100-SXM4-80GB) is over budget by 2,390 MiB: chat 40,576 MiB + small 36,518 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) chat 1,632 MiB + small 1,488 MiB = 80,214 MiB charged, 77,824 MiB usable of 81,920 MiB',
    );
    await settle();
    expect(mocks.registrations.filter((r) => r.name === "shared" || r.name.startsWith("shared-"))).toEqual([]);
  });
});

describe("the fit guarantee inside GpuHost", () => {
  it("refuses, during up, a model whose KV cache for its context does not fit, naming services[i]; nothing is registered", async () => {
    const plan = fleet.planFleet(
      fleet.validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [{ name: "misfit", instanceType: "g5.xlarge" }],
        services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "misfit", gpus: [0] }],
      }),
    );
    const build = () =>
      new components.GpuHost("misfit", {
        instanceType: "g5.xlarge",
        services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", gpus: [0] }],
        sshPrivateKey: pulumi.secret(PRIVATE_KEY),
        sshPublicKey: PUBLIC_KEY,
      });
    expect(build).toThrow(pulumi.ResourceError);
    const detail = plan.findings.find((f) => f.check === "model-fits-reservation")!.detail;
    expect(build).toThrow(
      `GpuHost "misfit": 1 mandatory GPU finding(s); nothing was created:\n[model-fits-reservation] GpuHost "misfit": services[0] (llm) ${detail}`,
    );
    expect(detail).toMatch(
      /^needs [\d,]+ MiB per GPU .* but its reservation is [\d,]+ MiB: over by [\d,]+ MiB; set maxModelLen <= [\d,]+ or give it more GPUs$/,
    );
    await settle();
    expect(mocks.registrations.filter((r) => r.name === "misfit" || r.name.startsWith("misfit-"))).toEqual([]);
  });
});

describe("an existing machine reached over SSH", () => {
  it("creates no cloud resources, connects to its address and keeps data in its data directory", async () => {
    const plan = fleet.planFleet(
      fleet.validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [
          {
            name: "dgx",
            existing: {
              address: "10.0.0.5",
              user: "ubuntu",
              gpu: "A100-SXM4-80GB",
              gpuCount: 8,
              dataDir: "/srv/gpu-fleet",
            },
          },
        ],
        services: [{ name: "chat", model: "meta/llama-3.1-8b-instruct", host: "dgx", gpus: [2, 3] }],
      }),
    );
    const dgx = new components.GpuHost("dgx", { ...plan.hosts[0].args, sshPrivateKey: pulumi.secret(PRIVATE_KEY) });
    const chat = new components.NimService("chat", { host: dgx, service: "chat", ngcApiKey: pulumi.secret(NGC_KEY) });
    expect(await promiseOf(chat.endpoint)).toBe("http://10.0.0.5:8000");
    await settle();
    expect(
      mocks.registrations
        .filter((r) => r.name.startsWith("dgx") || r.name.startsWith("chat"))
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      ["chat", "chat-container", "chat-ngc-key", "dgx", "dgx-ledger", "dgx-provision", "dgx-verify-gpus"].sort(),
    );
    const provision = mocks.byName("dgx-provision").inputs;
    // The provider's defaults (10 dial attempts of 15 s) apply: the machine is already up.
    expect(provision.connection.value).toEqual({
      host: "10.0.0.5",
      port: 22,
      user: "ubuntu",
      privateKey: PRIVATE_KEY,
      dialErrorLimit: 10,
      perDialTimeout: 15,
    });
    expect(provision.create).toBe(
      renderers.provision.renderProvisionScript(
        { host: "dgx", dataVolume: "directory" },
        { paths: { configDir: "/etc/gpu-fleet", dataDir: "/srv/gpu-fleet" } },
      ),
    );
    const container = mocks.byName("chat-container").inputs.create as string;
    expect(container).toContain(`--gpus '"device=2,3"'`);
    expect(container).toContain(`-e 'NIM_TENSOR_PARALLEL_SIZE=2'`);
    expect(container).toContain(`-e 'NCCL_DEBUG=WARN'`);
    expect(container).toContain(`--shm-size '16g'`);
    expect(container).toContain(`-v '/srv/gpu-fleet/nim-cache/chat:/opt/nim/.cache'`);
    // An optimized TensorRT-LLM profile takes no gpu_memory_utilization.
    expect(container).not.toContain("NIM_GPU_MEMORY_UTILIZATION");
  });
});
