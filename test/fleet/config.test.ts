/**
 * Stack config validation: every message of fleet/config.ts, one mistake per case, asserted exactly.
 * Each case starts from the dev stack's config (one g5.xlarge "gpu0", service "llm") and changes one thing.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, describeDevices, hostGpus } from "../../fleet";
import { RawStackConfig, StackConfig, validateStackConfig } from "../../stackConfig";

type Raw = {
  hosts?: unknown;
  services?: unknown;
  ngcApiKey: RawStackConfig["ngcApiKey"];
  safetyMarginFraction?: unknown;
  maxHourlyUsd?: unknown;
};
type Obj = Record<string, unknown>;

const LLM = { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 };
const dev = (): Raw => ({
  hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
  services: [{ ...LLM }],
  ngcApiKey: "secret",
});
const withHost = (host: Obj, services: unknown[] = []): Raw => ({ hosts: [host], services, ngcApiKey: "secret" });
const withService = (changes: Obj, hosts: unknown[] = [{ name: "gpu0", instanceType: "g5.xlarge" }]): Raw => ({
  hosts,
  services: [{ ...LLM, ...changes }],
  ngcApiKey: "secret",
});
const DGX = { name: "dgx", existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 } };
const P4DE = { name: "gpu0", instanceType: "p4de.24xlarge" };
const withoutKey = (o: Obj, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));

function problems(raw: Raw): string[] {
  try {
    validateStackConfig(raw as RawStackConfig);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toBe((e as ConfigError).problems.join("\n"));
    return [...(e as ConfigError).problems];
  }
  return [];
}

const INSTANCE_TYPES =
  "auto, g4dn.xlarge, g5.xlarge, g5.2xlarge, g5.12xlarge, g5.48xlarge, g6.xlarge, g6e.xlarge, p3.2xlarge, p4d.24xlarge, p4de.24xlarge, p5.48xlarge";
const MODEL_IDS =
  "meta/llama-3.1-8b-instruct, meta/llama3-8b-instruct, meta/llama-3.1-70b-instruct, meta/llama-3.1-405b-instruct, meta/llama-2-7b-chat, mistralai/mistral-7b-instruct-v0.3, qwen/qwen2-7b-instruct, nvidia/nv-embedqa-e5-v5, nvidia/nv-rerankqa-mistral-4b-v3, openai/whisper-large-v3, sentence-transformers/all-MiniLM-L6-v2, microsoft/DialoGPT-medium, rednote-hilab/dots.ocr";
const GPUS = "T4, V100-SXM2-16GB, A10G, L4, L40S, A100-SXM4-40GB, A100-SXM4-80GB, H100-SXM5-80GB";
const NAME_RULE = 'expected lower-case letters, digits and "-", starting with a letter, at most 31 characters';
const SECRET_HINT = "set it with `pulumi config set --secret gpu-fleet:ngcApiKey <key>`";

describe("a valid config", () => {
  it("the dev stack validates, with every default filled in", () => {
    const expected: StackConfig = {
      hosts: [
        {
          name: "gpu0",
          instanceType: "g5.xlarge",
          existing: undefined,
          sshAllowedCidrs: [],
          rootVolumeSizeGiB: 100,
          dataVolumeSizeGiB: 500,
          bindAddress: "private",
        },
      ],
      services: [
        {
          name: "llm",
          model: "meta/llama-3.1-8b-instruct",
          host: "gpu0",
          gpus: [0],
          tensorParallel: 1,
          precision: undefined,
          maxModelLen: 8192,
          gpuMemoryUtilization: undefined,
          engine: undefined,
          port: undefined,
          image: undefined,
        },
      ],
      ngcApiKey: "secret",
      safetyMarginFraction: 0.05,
      maxHourlyUsd: undefined,
      observability: { enabled: true, host: "gpu0", bind: "loopback", retentionDays: 15 },
    };
    expect(validateStackConfig(dev() as RawStackConfig)).toEqual(expected);
  });

  it("observability settings are read and defaulted", () => {
    const config = validateStackConfig({
      ...(dev() as RawStackConfig),
      observability: { bind: "private", retentionDays: 30 },
    });
    expect(config.observability).toEqual({ enabled: true, host: "gpu0", bind: "private", retentionDays: 30 });
    expect(
      validateStackConfig({ ...(dev() as RawStackConfig), observability: { enabled: false } }).observability.enabled,
    ).toBe(false);
  });

  it.each([
    [{ host: "gpu9" }, 'gpu-fleet:observability.host: unknown host "gpu9"; defined hosts: gpu0'],
    [
      { bind: "0.0.0.0" },
      'gpu-fleet:observability.bind: "0.0.0.0" is not allowed; expected "loopback" (SSH tunnel) or "private"',
    ],
    [
      { retentionDays: 0 },
      "gpu-fleet:observability.retentionDays: 0 is not allowed; expected a whole number from 1 to 3650",
    ],
    [{ enabled: "yes" }, 'gpu-fleet:observability.enabled: "yes" is not allowed; expected true or false'],
    [
      { grafana: true },
      "gpu-fleet:observability.grafana: unknown setting; allowed: enabled, host, bind, retentionDays",
    ],
    ["on", 'gpu-fleet:observability: "on" is not allowed; expected { enabled, host, bind, retentionDays }'],
  ])("rejects observability %j", (observability, message) => {
    expect(() => validateStackConfig({ ...(dev() as RawStackConfig), observability })).toThrow(message);
  });

  it("an existing machine gets port 22 and /data, and its GPU name as the catalog spells it", () => {
    const config = validateStackConfig({
      ...withHost({ ...DGX, existing: { ...DGX.existing, gpu: "a100-sxm4-80gb" } }),
    } as RawStackConfig);
    expect(config.hosts[0].existing).toEqual({
      address: "10.0.0.5",
      user: "ubuntu",
      port: 22,
      gpu: "A100-SXM4-80GB",
      gpuCount: 8,
      dataDir: "/data",
    });
    expect(hostGpus(config.hosts[0])).toEqual({
      gpu: "A100-SXM4-80GB",
      gpuCount: 8,
      label: "existing A100-SXM4-80GB ×8",
    });
  });

  it("accepts every optional setting at a valid value", () => {
    const config = validateStackConfig({
      hosts: [
        {
          name: "gpu0",
          instanceType: "auto",
          sshAllowedCidrs: ["203.0.113.7/32"],
          rootVolumeSizeGiB: 200,
          dataVolumeSizeGiB: 1000,
          bindAddress: "10.0.1.10",
        },
      ],
      services: [
        {
          name: "llm",
          model: "meta/llama-3.1-8b-instruct",
          host: "gpu0",
          tensorParallel: 2,
          precision: "fp16",
          maxModelLen: 131072,
          gpuMemoryUtilization: 0.85,
          engine: "trtllm",
          port: 9000,
          image: "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3",
        },
      ],
      ngcApiKey: "secret",
      safetyMarginFraction: 0,
      maxHourlyUsd: 12.5,
    });
    expect(config.services[0]).toEqual({
      name: "llm",
      model: "meta/llama-3.1-8b-instruct",
      host: "gpu0",
      gpus: undefined,
      tensorParallel: 2,
      precision: "fp16",
      maxModelLen: 131072,
      gpuMemoryUtilization: 0.85,
      engine: "trtllm",
      port: 9000,
      image: "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3",
    });
    expect(config.hosts[0]).toMatchObject({
      instanceType: "auto",
      sshAllowedCidrs: ["203.0.113.7/32"],
      rootVolumeSizeGiB: 200,
      dataVolumeSizeGiB: 1000,
      bindAddress: "10.0.1.10",
    });
    expect([config.safetyMarginFraction, config.maxHourlyUsd]).toEqual([0, 12.5]);
  });

  it.each([
    [
      "no NIM services",
      {
        hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
        services: [{ name: "chat", model: "microsoft/DialoGPT-medium", host: "gpu0" }],
        ngcApiKey: "missing",
      },
    ],
    ["a NIM model from a custom image", withService({ image: "registry.example.com/llama:1" })],
    ["no services at all", { hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }], ngcApiKey: "missing" }],
  ] as [string, Raw][])("a missing NGC key is fine with %s", (_name, raw) => {
    expect(problems({ ...raw, ngcApiKey: "missing" })).toEqual([]);
  });

  it.each([
    ["rednote-hilab/dots.ocr", 4],
    ["rednote-hilab/dots.ocr", 6],
    ["meta/llama-3.1-8b-instruct", 16],
    ["meta/llama-3.1-405b-instruct", 16],
  ])("%s at tensor parallelism %i is valid (KV heads replicated)", (model, tensorParallel) => {
    expect(problems(withService({ model, gpus: undefined, tensorParallel, maxModelLen: undefined }, [P4DE]))).toEqual(
      [],
    );
  });

  it("an embedding model is not split over GPUs: tensorParallel or several pinned GPUs are refused", () => {
    const embed = { name: "embed", model: "nvidia/nv-embedqa-e5-v5", maxModelLen: undefined };
    const fix = "and add a service per GPU for more copies";
    expect(problems(withService({ ...embed, gpus: undefined, tensorParallel: 8 }, [P4DE]))).toEqual([
      `gpu-fleet:services[0].tensorParallel: 8 GPUs cannot serve nvidia/nv-embedqa-e5-v5 (kind: embedding): its encoder engine runs the whole model on one GPU and does not split it; remove tensorParallel, ${fix}`,
    ]);
    expect(problems(withService({ ...embed, gpus: [0, 1] }, [P4DE]))).toEqual([
      `gpu-fleet:services[0].gpus: 2 GPUs cannot serve nvidia/nv-embedqa-e5-v5 (kind: embedding): its encoder engine runs the whole model on one GPU and does not split it; pin one GPU, ${fix}`,
    ]);
    expect(problems(withService({ ...embed, gpus: undefined, tensorParallel: 1 }, [P4DE]))).toEqual([]);
  });

  it("pins tensor parallelism to the number of pinned devices", () => {
    const config = validateStackConfig(withService({ gpus: [2, 3] }, [P4DE]) as RawStackConfig);
    expect(config.services[0]).toMatchObject({ gpus: [2, 3], tensorParallel: 2 });
  });

  it('knows the GPUs of a catalog instance, and not yet those of an "auto" host', () => {
    const config = validateStackConfig({
      hosts: [
        { name: "a", instanceType: "g5.12xlarge" },
        { name: "b", instanceType: "auto" },
      ],
      services: [],
      ngcApiKey: "secret",
    });
    expect(hostGpus(config.hosts[0])).toEqual({ gpu: "A10G", gpuCount: 4, label: "g5.12xlarge" });
    expect(hostGpus(config.hosts[1])).toBeUndefined();
  });

  it.each([
    [1, "GPU 0 only"],
    [4, "GPUs 0-3"],
    [8, "GPUs 0-7"],
  ])("describes %i device(s) as %s", (count, words) => {
    expect(describeDevices(count)).toBe(words);
  });
});

describe("one message per mistake", () => {
  it.each<[string, Raw, string[]]>([
    // --- the top-level lists
    [
      "no hosts",
      { services: [], ngcApiKey: "secret" },
      ["gpu-fleet:hosts: undefined is not allowed; expected a non-empty list of hosts"],
    ],
    [
      "an empty host list",
      { hosts: [], services: [], ngcApiKey: "secret" },
      ["gpu-fleet:hosts: [] is not allowed; expected a non-empty list of hosts"],
    ],
    [
      "hosts as a string",
      { hosts: "gpu0", services: [], ngcApiKey: "secret" },
      ['gpu-fleet:hosts: "gpu0" is not allowed; expected a non-empty list of hosts'],
    ],
    [
      "services as a string",
      { ...dev(), services: "llm" },
      ['gpu-fleet:services: "llm" is not allowed; expected a list of services'],
    ],

    // --- hosts
    [
      "a host that is not an object",
      withHost("gpu0" as unknown as Obj),
      ['gpu-fleet:hosts[0]: "gpu0" is not allowed; expected a host { name, instanceType } or { name, existing }'],
    ],
    [
      "an unknown host setting",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", gpuType: "A10G" }),
      [
        "gpu-fleet:hosts[0].gpuType: unknown setting; allowed: name, instanceType, existing, sshAllowedCidrs, rootVolumeSizeGiB, dataVolumeSizeGiB, bindAddress",
      ],
    ],
    [
      "an upper-case host name",
      withHost({ name: "GPU_0", instanceType: "g5.xlarge" }),
      [`gpu-fleet:hosts[0].name: "GPU_0" is not allowed; ${NAME_RULE}`],
    ],
    [
      "a host name of 32 characters",
      withHost({ name: "a".repeat(32), instanceType: "g5.xlarge" }),
      [`gpu-fleet:hosts[0].name: "${"a".repeat(32)}" is not allowed; ${NAME_RULE}`],
    ],
    [
      "a host without a name",
      withHost({ instanceType: "g5.xlarge" }),
      [`gpu-fleet:hosts[0].name: undefined is not allowed; ${NAME_RULE}`],
    ],
    [
      "both instanceType and existing",
      withHost({ ...DGX, instanceType: "g5.xlarge" }),
      [
        "gpu-fleet:hosts[0]: set either instanceType (an EC2 instance) or existing (a machine reached over SSH), not both",
      ],
    ],
    [
      "neither instanceType nor existing",
      withHost({ name: "gpu0" }),
      [
        'gpu-fleet:hosts[0]: set instanceType (an EC2 instance type from the catalog, or "auto") or existing { address, user, gpu, gpuCount }',
      ],
    ],
    [
      "an unknown instance type",
      withHost({ name: "gpu0", instanceType: "g5.4xlarge" }),
      [`gpu-fleet:hosts[0].instanceType: unknown instance type "g5.4xlarge"; allowed: ${INSTANCE_TYPES}`],
    ],
    [
      "an instance type that is not a string",
      withHost({ name: "gpu0", instanceType: 5 }),
      [`gpu-fleet:hosts[0].instanceType: unknown instance type 5; allowed: ${INSTANCE_TYPES}`],
    ],
    [
      "existing as a string",
      withHost({ name: "dgx", existing: "10.0.0.5" }),
      ['gpu-fleet:hosts[0].existing: "10.0.0.5" is not allowed; expected { address, user, gpu, gpuCount }'],
    ],
    [
      "an unknown existing-machine setting",
      withHost({ ...DGX, existing: { ...DGX.existing, sshKey: "~/.ssh/id" } }),
      ["gpu-fleet:hosts[0].existing.sshKey: unknown setting; allowed: address, user, port, gpu, gpuCount, dataDir"],
    ],
    [
      "an address with a space",
      withHost({ ...DGX, existing: { ...DGX.existing, address: "10.0.0.5 rm" } }),
      ['gpu-fleet:hosts[0].existing.address: "10.0.0.5 rm" is not allowed; expected an IPv4 address or a host name'],
    ],
    [
      "no address",
      withHost({ ...DGX, existing: withoutKey(DGX.existing, "address") }),
      ["gpu-fleet:hosts[0].existing.address: undefined is not allowed; expected an IPv4 address or a host name"],
    ],
    [
      "an upper-case user",
      withHost({ ...DGX, existing: { ...DGX.existing, user: "Ubuntu" } }),
      ['gpu-fleet:hosts[0].existing.user: "Ubuntu" is not allowed; expected a Linux user name'],
    ],
    [
      "an unknown GPU",
      withHost({ ...DGX, existing: { ...DGX.existing, gpu: "A100" } }),
      [`gpu-fleet:hosts[0].existing.gpu: unknown GPU "A100"; known: ${GPUS}`],
    ],
    [
      "zero GPUs",
      withHost({ ...DGX, existing: { ...DGX.existing, gpuCount: 0 } }),
      ["gpu-fleet:hosts[0].existing.gpuCount: 0 is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "17 GPUs",
      withHost({ ...DGX, existing: { ...DGX.existing, gpuCount: 17 } }),
      ["gpu-fleet:hosts[0].existing.gpuCount: 17 is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "no GPU count",
      withHost({ ...DGX, existing: withoutKey(DGX.existing, "gpuCount") }),
      ["gpu-fleet:hosts[0].existing.gpuCount: null is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "an SSH port out of range",
      withHost({ ...DGX, existing: { ...DGX.existing, port: 70000 } }),
      ["gpu-fleet:hosts[0].existing.port: 70000 is not allowed; expected a whole number from 1 to 65535"],
    ],
    [
      "a relative data directory",
      withHost({ ...DGX, existing: { ...DGX.existing, dataDir: "data" } }),
      [
        'gpu-fleet:hosts[0].existing.dataDir: "data" is not allowed; expected an absolute path of letters, digits, . _ - / without . or .. segments',
      ],
    ],
    [
      "SSH CIDRs as a string",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", sshAllowedCidrs: "0.0.0.0/0" }),
      [
        'gpu-fleet:hosts[0].sshAllowedCidrs: "0.0.0.0/0" is not allowed; expected a list of IPv4 CIDRs such as ["203.0.113.7/32"]',
      ],
    ],
    [
      "an address without a prefix length",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", sshAllowedCidrs: ["203.0.113.0/24", "203.0.113.7"] }),
      ['gpu-fleet:hosts[0].sshAllowedCidrs[1]: "203.0.113.7" is not an IPv4 CIDR such as 203.0.113.7/32'],
    ],
    [
      "a prefix length over 32",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", sshAllowedCidrs: ["203.0.113.7/33"] }),
      ['gpu-fleet:hosts[0].sshAllowedCidrs[0]: "203.0.113.7/33" is not an IPv4 CIDR such as 203.0.113.7/32'],
    ],
    [
      "a root volume under 30 GiB",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", rootVolumeSizeGiB: 20 }),
      ["gpu-fleet:hosts[0].rootVolumeSizeGiB: 20 is not allowed; expected a whole number from 30 to 16384"],
    ],
    [
      "a fractional data volume",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", dataVolumeSizeGiB: 100.5 }),
      ["gpu-fleet:hosts[0].dataVolumeSizeGiB: 100.5 is not allowed; expected a whole number from 50 to 65536"],
    ],
    [
      "a host name as bind address",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", bindAddress: "localhost" }),
      ['gpu-fleet:hosts[0].bindAddress: "localhost" is not allowed; expected "private" or an IPv4 address'],
    ],
    [
      "binding to all interfaces",
      withHost({ name: "gpu0", instanceType: "g5.xlarge", bindAddress: "0.0.0.0" }),
      [
        'gpu-fleet:hosts[0].bindAddress: "0.0.0.0" would expose every service on all interfaces; expected "private" or a specific IPv4 address',
      ],
    ],
    [
      "two hosts with one name",
      {
        hosts: [
          { name: "gpu0", instanceType: "g5.xlarge" },
          { name: "gpu0", instanceType: "g6.xlarge" },
        ],
        services: [],
        ngcApiKey: "secret",
      },
      ['gpu-fleet:hosts[1].name: duplicate host name "gpu0"; host names must be unique'],
    ],

    // --- services
    [
      "a service that is not an object",
      { ...dev(), services: ["llm"] },
      ['gpu-fleet:services[0]: "llm" is not allowed; expected a service { name, model, host }'],
    ],
    [
      "an unknown service setting (a typo of maxModelLen)",
      withService({ maxModelLength: 8192 }),
      [
        "gpu-fleet:services[0].maxModelLength: unknown setting; allowed: name, model, host, gpus, tensorParallel, precision, maxModelLen, gpuMemoryUtilization, kvCacheDtype, maxNumBatchedTokens, engine, port, image",
      ],
    ],
    [
      "an upper-case service name",
      withService({ name: "LLM" }),
      [`gpu-fleet:services[0].name: "LLM" is not allowed; ${NAME_RULE}`],
    ],
    [
      "an unknown model",
      withService({ model: "meta/llama-3-70b" }),
      [`gpu-fleet:services[0].model: unknown model "meta/llama-3-70b"; known: ${MODEL_IDS}`],
    ],
    [
      "a model id in another case",
      withService({ model: "Meta/Llama-3.1-8B-Instruct" }),
      [`gpu-fleet:services[0].model: unknown model "Meta/Llama-3.1-8B-Instruct"; known: ${MODEL_IDS}`],
    ],
    [
      "an unknown host",
      withService({ host: "gpu1" }),
      ['gpu-fleet:services[0].host: unknown host "gpu1"; defined hosts: gpu0'],
    ],
    [
      "a service on a host that failed validation",
      { hosts: ["gpu0"], services: [{ ...LLM }], ngcApiKey: "secret" },
      [
        'gpu-fleet:hosts[0]: "gpu0" is not allowed; expected a host { name, instanceType } or { name, existing }',
        'gpu-fleet:services[0].host: unknown host "gpu0"; defined hosts: none',
      ],
    ],
    [
      "an empty device list",
      withService({ gpus: [] }),
      ["gpu-fleet:services[0].gpus: [] is not allowed; expected a non-empty list of device ids such as [0] or [2, 3]"],
    ],
    [
      "a device id instead of a list",
      withService({ gpus: 0 }),
      ["gpu-fleet:services[0].gpus: 0 is not allowed; expected a non-empty list of device ids such as [0] or [2, 3]"],
    ],
    [
      "a device id as a string",
      withService({ gpus: ["0"] }),
      ['gpu-fleet:services[0].gpus[0]: "0" is not a device id; expected a whole number from 0'],
    ],
    [
      "a negative device id",
      withService({ gpus: [-1] }),
      ["gpu-fleet:services[0].gpus[0]: -1 is not a device id; expected a whole number from 0"],
    ],
    [
      // Issue 2's example: the second service pinned to a device the g5.xlarge does not have.
      "a device the instance does not have",
      {
        ...dev(),
        services: [{ ...LLM }, { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [3] }],
      },
      ['gpu-fleet:services[1].gpus[0]: device 3 does not exist on host "gpu0" (g5.xlarge has GPU 0 only)'],
    ],
    [
      "a device a g5.12xlarge does not have",
      withService({ gpus: [2, 4] }, [{ name: "gpu0", instanceType: "g5.12xlarge" }]),
      ['gpu-fleet:services[0].gpus[1]: device 4 does not exist on host "gpu0" (g5.12xlarge has GPUs 0-3)'],
    ],
    [
      "a device an existing machine does not have",
      withService({ host: "dgx", gpus: [8] }, [DGX]),
      [
        'gpu-fleet:services[0].gpus[0]: device 8 does not exist on host "dgx" (existing A100-SXM4-80GB ×8 has GPUs 0-7)',
      ],
    ],
    [
      // Only the bad id is reported: the three good devices are not judged as a TP-3 split of 32 heads.
      "one bad device among four",
      withService({ gpus: [0, 1, 2, 9] }, [P4DE]),
      ['gpu-fleet:services[0].gpus[3]: device 9 does not exist on host "gpu0" (p4de.24xlarge has GPUs 0-7)'],
    ],
    [
      "a device listed twice",
      withService({ gpus: [0, 0] }),
      ["gpu-fleet:services[0].gpus[1]: device 0 is listed twice"],
    ],
    [
      "tensor parallelism 0",
      withService({ gpus: undefined, tensorParallel: 0 }),
      ["gpu-fleet:services[0].tensorParallel: 0 is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "tensor parallelism 32",
      withService({ gpus: undefined, tensorParallel: 32 }),
      ["gpu-fleet:services[0].tensorParallel: 32 is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "tensor parallelism 17",
      withService({ gpus: undefined, tensorParallel: 17 }),
      ["gpu-fleet:services[0].tensorParallel: 17 is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "tensor parallelism 2.5",
      withService({ gpus: undefined, tensorParallel: 2.5 }),
      ["gpu-fleet:services[0].tensorParallel: 2.5 is not allowed; expected a whole number from 1 to 16"],
    ],
    [
      "tensor parallelism that disagrees with the pinned devices",
      withService({ gpus: [0], tensorParallel: 2 }),
      [
        "gpu-fleet:services[0].tensorParallel: 2 does not match the 1 pinned device(s) in gpus; tensor parallelism equals the number of pinned devices",
      ],
    ],
    [
      "three GPUs for 32 attention heads",
      withService({ gpus: [0, 1, 2] }, [P4DE]),
      [
        "gpu-fleet:services[0].gpus: meta/llama-3.1-8b-instruct has 32 attention heads, which 3 GPUs cannot split evenly; use a tensor parallelism that divides 32",
      ],
    ],
    [
      "tensor parallelism 8 for dots.ocr's 12 heads",
      withService({ model: "rednote-hilab/dots.ocr", gpus: undefined, tensorParallel: 8 }, [P4DE]),
      [
        "gpu-fleet:services[0].gpus: rednote-hilab/dots.ocr has 12 attention heads, which 8 GPUs cannot split evenly; use a tensor parallelism that divides 12",
      ],
    ],
    [
      // vLLM (QKVParallelLinear) needs TP to divide the KV heads, or the KV heads to divide TP.
      "three GPUs for dots.ocr's 2 KV heads (its 12 attention heads would split)",
      withService({ model: "rednote-hilab/dots.ocr", gpus: [0, 1, 2], maxModelLen: undefined }, [P4DE]),
      [
        "gpu-fleet:services[0].gpus: rednote-hilab/dots.ocr has 2 KV heads, which 3 GPUs cannot split or replicate evenly; use a tensor parallelism that divides 2 or is a multiple of it",
      ],
    ],
    [
      "an unknown precision",
      withService({ precision: "int2" }),
      ['gpu-fleet:services[0].precision: "int2" is not allowed; expected one of bf16, fp16, fp8, int8, int4'],
    ],
    [
      "a precision in capitals",
      withService({ precision: "BF16" }),
      ['gpu-fleet:services[0].precision: "BF16" is not allowed; expected one of bf16, fp16, fp8, int8, int4'],
    ],
    [
      "a context over the model's maximum",
      withService({ maxModelLen: 131073 }),
      [
        "gpu-fleet:services[0].maxModelLen: 131073 is not allowed; expected a whole number from 1 to 131072 (meta/llama-3.1-8b-instruct's maximum context)",
      ],
    ],
    [
      "Llama 3's 8k limit",
      withService({ model: "meta/llama3-8b-instruct", maxModelLen: 16384 }),
      [
        "gpu-fleet:services[0].maxModelLen: 16384 is not allowed; expected a whole number from 1 to 8192 (meta/llama3-8b-instruct's maximum context)",
      ],
    ],
    [
      "a zero context for an unknown model",
      withService({ model: "meta/llama-4", maxModelLen: 0 }),
      [
        `gpu-fleet:services[0].model: unknown model "meta/llama-4"; known: ${MODEL_IDS}`,
        "gpu-fleet:services[0].maxModelLen: 0 is not allowed; expected a whole number from 1",
      ],
    ],
    [
      "a context as text",
      withService({ maxModelLen: "8k" }),
      [
        'gpu-fleet:services[0].maxModelLen: "8k" is not allowed; expected a whole number from 1 to 131072 (meta/llama-3.1-8b-instruct\'s maximum context)',
      ],
    ],
    [
      "a percentage for the utilization",
      withService({ gpuMemoryUtilization: 90 }),
      [
        "gpu-fleet:services[0].gpuMemoryUtilization: 90 is not allowed; expected a fraction greater than 0 and at most 1, such as 0.9",
      ],
    ],
    [
      "a zero utilization",
      withService({ gpuMemoryUtilization: 0 }),
      [
        "gpu-fleet:services[0].gpuMemoryUtilization: 0 is not allowed; expected a fraction greater than 0 and at most 1, such as 0.9",
      ],
    ],
    [
      "an unknown engine",
      withService({ engine: "sglang" }),
      ['gpu-fleet:services[0].engine: "sglang" is not allowed; expected one of vllm, trtllm, fixed'],
    ],
    [
      "vLLM for an embedding model",
      withService({ name: "embed", model: "nvidia/nv-embedqa-e5-v5", maxModelLen: undefined, engine: "vllm" }),
      ['gpu-fleet:services[0].engine: "vllm" cannot serve nvidia/nv-embedqa-e5-v5 (kind: embedding); expected fixed'],
    ],
    [
      "a fixed engine for an LLM",
      withService({ engine: "fixed" }),
      [
        'gpu-fleet:services[0].engine: "fixed" cannot serve meta/llama-3.1-8b-instruct (kind: llm); expected vllm or trtllm',
      ],
    ],
    [
      "a privileged port",
      withService({ port: 80 }),
      ["gpu-fleet:services[0].port: 80 is not allowed; expected a port from 1024 to 65535"],
    ],
    [
      "a port over 65535",
      withService({ port: 65536 }),
      ["gpu-fleet:services[0].port: 65536 is not allowed; expected a port from 1024 to 65535"],
    ],
    [
      "an image with capitals",
      withService({ image: "NVCR.io/nim/x" }),
      [
        'gpu-fleet:services[0].image: "NVCR.io/nim/x" is not allowed; expected a container image reference such as nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3',
      ],
    ],
    [
      "two services with one name",
      { ...dev(), services: [{ ...LLM }, { ...LLM, gpus: undefined }] },
      ['gpu-fleet:services[1].name: duplicate service name "llm"; service names must be unique'],
    ],
    [
      "two services on one port of one host",
      {
        ...dev(),
        services: [
          { ...LLM, port: 9000 },
          { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", port: 9000 },
        ],
      },
      ['gpu-fleet:services[1].port: port 9000 is already used by service "llm" on host "gpu0"'],
    ],

    // --- secrets and stack settings
    [
      "the NGC key in plain text",
      { ...dev(), ngcApiKey: "plaintext" },
      [`gpu-fleet:ngcApiKey: is stored in plain text; ${SECRET_HINT}`],
    ],
    [
      "no NGC key with a NIM service",
      { ...dev(), ngcApiKey: "missing" },
      [`gpu-fleet:ngcApiKey: is required to pull NIM containers from nvcr.io; ${SECRET_HINT}`],
    ],
    [
      "a plain-text NGC key even without NIM services",
      { hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }], services: [], ngcApiKey: "plaintext" },
      [`gpu-fleet:ngcApiKey: is stored in plain text; ${SECRET_HINT}`],
    ],
    [
      "a safety margin of one half",
      { ...dev(), safetyMarginFraction: 0.5 },
      ["gpu-fleet:safetyMarginFraction: 0.5 is not allowed; expected a fraction from 0 to below 0.5, such as 0.05"],
    ],
    [
      "a negative safety margin",
      { ...dev(), safetyMarginFraction: -0.01 },
      ["gpu-fleet:safetyMarginFraction: -0.01 is not allowed; expected a fraction from 0 to below 0.5, such as 0.05"],
    ],
    [
      "a maximum cost as text",
      { ...dev(), maxHourlyUsd: "10" },
      ['gpu-fleet:maxHourlyUsd: "10" is not allowed; expected a positive number of US dollars per hour'],
    ],
    [
      "a maximum cost of zero",
      { ...dev(), maxHourlyUsd: 0 },
      ["gpu-fleet:maxHourlyUsd: 0 is not allowed; expected a positive number of US dollars per hour"],
    ],
  ])("%s", (_name, raw, expected) => {
    expect(problems(raw)).toEqual(expected);
  });
});

describe("several mistakes", () => {
  it("are reported together, in config order, in one ConfigError", () => {
    const raw: Raw = {
      hosts: [{ name: "gpu0", instanceType: "g5.xlarge", bindAddress: "0.0.0.0" }],
      services: [
        { ...LLM, precision: "int2" },
        { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [1], replicas: 2 },
        { ...LLM, gpus: undefined },
      ],
      ngcApiKey: "plaintext",
      maxHourlyUsd: -1,
    };
    const expected = [
      'gpu-fleet:hosts[0].bindAddress: "0.0.0.0" would expose every service on all interfaces; expected "private" or a specific IPv4 address',
      'gpu-fleet:services[0].precision: "int2" is not allowed; expected one of bf16, fp16, fp8, int8, int4',
      "gpu-fleet:services[1].replicas: belongs to the Kubernetes runtime (a stack with gpu-fleet:eks, or KubernetesNimService); a service on GPU hosts runs on a host: remove it",
      'gpu-fleet:services[1].gpus[0]: device 1 does not exist on host "gpu0" (g5.xlarge has GPU 0 only)',
      `gpu-fleet:ngcApiKey: is stored in plain text; ${SECRET_HINT}`,
      "gpu-fleet:maxHourlyUsd: -1 is not allowed; expected a positive number of US dollars per hour",
    ];
    expect(() => validateStackConfig(raw as RawStackConfig)).toThrow(new ConfigError(expected));
    expect(problems(raw)).toEqual(expected);
  });

  it("reports every problem of one service", () => {
    expect(problems(withService({ name: "Big LLM", model: "llama", host: "nowhere", gpus: [-1], port: 22 }))).toEqual([
      `gpu-fleet:services[0].name: "Big LLM" is not allowed; ${NAME_RULE}`,
      `gpu-fleet:services[0].model: unknown model "llama"; known: ${MODEL_IDS}`,
      'gpu-fleet:services[0].host: unknown host "nowhere"; defined hosts: gpu0',
      "gpu-fleet:services[0].gpus[0]: -1 is not a device id; expected a whole number from 0",
      "gpu-fleet:services[0].port: 22 is not allowed; expected a port from 1024 to 65535",
    ]);
  });

  it("names the error ConfigError", () => {
    expect(new ConfigError(["a", "b"])).toMatchObject({ name: "ConfigError", message: "a\nb", problems: ["a", "b"] });
  });
});

describe("service ports stay off the ports the stack binds on the same host", () => {
  const list =
    "9100 (nodeExporter), 9400 (dcgmExporter), 9090 (prometheus), 3000 (grafana), 1972 (irisSuperserver), 52773 (irisWeb), 9464 (vectorizerMetrics)";
  const stack = (port: number, extra: Record<string, unknown> = {}) => ({
    ngcApiKey: "secret" as const,
    hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
    services: [
      { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [0] },
      { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192, port },
    ],
    ...extra,
  });

  it.each([
    [9100, {}, "nodeExporter"],
    [9400, {}, "dcgmExporter"],
    [9090, { observability: { bind: "private" } }, "prometheus"],
    [3000, { observability: { bind: "private" } }, "grafana"],
    [1972, { rag: { embeddingService: "embed", corpusDir: "corpus/sample" } }, "irisSuperserver"],
    [52773, { rag: { embeddingService: "embed", corpusDir: "corpus/sample" } }, "irisWeb"],
    [9464, { rag: { embeddingService: "embed", corpusDir: "corpus/sample" } }, "vectorizerMetrics"],
  ])("port %i is refused (%o): the stack's %s binds it", (port, extra, name) => {
    expect(problems(stack(port, extra))).toEqual([
      `gpu-fleet:services[1].port: port ${port} is used by the stack's ${name} on host "gpu0"; choose another port (the stack binds ${list} where it runs them)`,
    ]);
  });

  it.each([
    [9090, {}],
    [3000, {}],
    [9100, { observability: { enabled: false } }],
    [1972, {}],
  ])("port %i is free when the stack binds nothing there (%o)", (port, extra) => {
    expect(problems(stack(port, extra))).toEqual([]);
  });
});

describe("images are OCI references; encoders take 16-bit weights only", () => {
  const withService = (extra: Record<string, unknown>, model = "meta/llama-3.1-8b-instruct") => ({
    ngcApiKey: "secret" as const,
    hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
    services: [{ name: "svc", model, host: "gpu0", gpus: [0], maxModelLen: 8192, ...extra }],
  });

  it.each([
    "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3",
    "vllm/vllm-openai:v0.6.3",
    "localhost:5000/team/model_server__v2:latest",
    `ghcr.io/org/img@sha256:${"a".repeat(64)}`,
  ])("accepts %s", (image) => {
    expect(problems(withService({ image }))).toEqual([]);
  });

  it.each(["img:tag with space", "img$(id)", "img;rm -rf /", "-rm", "img:", "a//b", "img@sha256:abc"])(
    "refuses %s",
    (image) => {
      expect(problems(withService({ image }))).toEqual([
        `gpu-fleet:services[0].image: ${JSON.stringify(image)} is not allowed; expected a container image reference such as nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3`,
      ]);
    },
  );

  it.each(["int4", "fp8", "int8"])("an embedding model at %s is refused", (precision) => {
    expect(problems(withService({ precision, maxModelLen: undefined }, "nvidia/nv-embedqa-e5-v5"))).toEqual([
      `gpu-fleet:services[0].precision: "${precision}" cannot serve nvidia/nv-embedqa-e5-v5 (kind: embedding); expected bf16 or fp16`,
    ]);
  });
});

describe("rag values reach host scripts only from a safe alphabet", () => {
  const stack = (rag: Record<string, unknown>) => ({
    ngcApiKey: "secret" as const,
    hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
    services: [{ name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [0] }],
    rag: { embeddingService: "embed", ...rag },
  });

  it.each(["c$(touch pwned)`id`", "corpus dir", "a;b", "docs/'x'", "..", "corpus/.", "/"])(
    "refuses corpusDir %j, naming the key, the value and the alphabet",
    (corpusDir) => {
      expect(problems(stack({ corpusDir }))).toEqual([
        `gpu-fleet:rag.corpusDir: ${JSON.stringify(corpusDir)} is not allowed; expected a path of letters, digits and . _ - / whose last segment names the directory (not . or ..)`,
      ]);
    },
  );

  it.each(["corpus/sample", "./corpus/sample/", "../shared/docs", "/srv/corpora/v1.2_final"])(
    "accepts corpusDir %j",
    (corpusDir) => {
      expect(problems(stack({ corpusDir }))).toEqual([]);
    },
  );
});

describe("rag.table follows the stores' one naming rule", () => {
  const stack = (table: unknown) => ({
    ngcApiKey: "secret" as const,
    hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
    services: [{ name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [0] }],
    rag: { embeddingService: "embed", corpusDir: "corpus/sample", table },
  });

  it.each(["Order", "user", "rag.chunks", "vectorizer_chunks"])(
    "accepts %j (rendered as a delimited identifier)",
    (table) => {
      expect(problems(stack(table))).toEqual([]);
      expect(validateStackConfig(stack(table)).rag?.table).toBe(table);
    },
  );

  it.each([
    [
      "chunks; DROP TABLE x",
      'table name must be an identifier (letters, digits, _), optionally schema.table, got "chunks; DROP TABLE x"',
    ],
    ['a"b', 'table name must be an identifier (letters, digits, _), optionally schema.table, got "a"b"'],
    [
      "t".repeat(49),
      `table name "${"t".repeat(49)}" has 49 characters; at most 48 (index names add up to 15 to it, and PostgreSQL cuts identifiers at 63)`,
    ],
    [42, "42 is not allowed; expected a table name such as vectorizer_chunks"],
  ])("refuses %j", (table, message) => {
    expect(problems(stack(table))).toEqual([`gpu-fleet:rag.table: ${message}`]);
  });
});

describe("vLLM's KV-cache dtype and batched-token budget", () => {
  const E5 = { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [0] };

  it("accepts both settings on a vLLM service and hands them on", () => {
    const config = validateStackConfig(
      withService({ kvCacheDtype: "fp8", maxNumBatchedTokens: 4096 }) as RawStackConfig,
    );
    expect(config.services[0]).toMatchObject({ kvCacheDtype: "fp8", maxNumBatchedTokens: 4096 });
  });

  it.each([
    ["fp16", 'gpu-fleet:services[0].kvCacheDtype: "fp16" is not allowed; expected auto or fp8'],
    ["fp8_e5m2", 'gpu-fleet:services[0].kvCacheDtype: "fp8_e5m2" is not allowed; expected auto or fp8'],
    [8, "gpu-fleet:services[0].kvCacheDtype: 8 is not allowed; expected auto or fp8"],
  ])("kvCacheDtype %j is refused", (kvCacheDtype, message) => {
    expect(problems(withService({ kvCacheDtype }))).toEqual([message]);
  });

  it.each([
    // vLLM's max_num_seqs default: 256 on an A10G, 1,024 on an H100 (vllmBatchDefaults).
    [
      255,
      [{ name: "gpu0", instanceType: "g5.xlarge" }],
      "256 (vLLM refuses fewer batched tokens than max_num_seqs, 256 on A10G)",
    ],
    [
      1000,
      [{ name: "gpu0", instanceType: "p5.48xlarge" }],
      "1024 (vLLM refuses fewer batched tokens than max_num_seqs, 1024 on H100-SXM5-80GB)",
    ],
    [
      512,
      [{ name: "gpu0", instanceType: "auto" }],
      "1024 (vLLM refuses fewer batched tokens than max_num_seqs, 1024 on the largest catalog GPUs (the host's GPU is not known yet))",
    ],
    [
      4096.5,
      [{ name: "gpu0", instanceType: "g5.xlarge" }],
      "256 (vLLM refuses fewer batched tokens than max_num_seqs, 256 on A10G)",
    ],
    [
      "4096",
      [{ name: "gpu0", instanceType: "g5.xlarge" }],
      "256 (vLLM refuses fewer batched tokens than max_num_seqs, 256 on A10G)",
    ],
  ])("maxNumBatchedTokens %j is refused", (maxNumBatchedTokens, hosts, expected) => {
    const service = { ...LLM, maxNumBatchedTokens, ...(hosts[0].instanceType === "auto" ? { gpus: undefined } : {}) };
    expect(problems({ hosts, services: [service], ngcApiKey: "secret" })).toEqual([
      `gpu-fleet:services[0].maxNumBatchedTokens: ${JSON.stringify(maxNumBatchedTokens)} is not allowed; expected a whole number from ${expected}`,
    ]);
  });

  it("a budget below maxModelLen is allowed: the V1 engine chunks prefills", () => {
    expect(problems(withService({ maxModelLen: 8192, maxNumBatchedTokens: 256 }))).toEqual([]);
  });

  it.each([
    [
      { kvCacheDtype: "fp8" },
      'gpu-fleet:services[0].kvCacheDtype: "fp8" cannot be set for nvidia/nv-embedqa-e5-v5 (kind: embedding): its encoder engine keeps no KV cache; remove kvCacheDtype',
    ],
    [
      { kvCacheDtype: "auto" },
      'gpu-fleet:services[0].kvCacheDtype: "auto" cannot be set for nvidia/nv-embedqa-e5-v5 (kind: embedding): its encoder engine keeps no KV cache; remove kvCacheDtype',
    ],
    [
      { maxNumBatchedTokens: 4096 },
      "gpu-fleet:services[0].maxNumBatchedTokens: 4096 cannot be set for nvidia/nv-embedqa-e5-v5 (kind: embedding): its encoder engine schedules no token batches; remove maxNumBatchedTokens",
    ],
  ])("an encoder refuses %j", (setting, message) => {
    expect(
      problems({
        hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
        services: [{ ...E5, ...setting }],
        ngcApiKey: "secret",
      }),
    ).toEqual([message]);
  });

  it.each([
    [
      { kvCacheDtype: "fp8" },
      `gpu-fleet:services[0].kvCacheDtype: "fp8" cannot be set with engine "trtllm": NIM's TensorRT-LLM profiles are pre-built engines and NIM documents no setting for their KV-cache dtype; set engine to "vllm" or leave it unset`,
    ],
    [
      { maxNumBatchedTokens: 4096 },
      `gpu-fleet:services[0].maxNumBatchedTokens: 4096 cannot be set with engine "trtllm": NIM's TensorRT-LLM profiles are pre-built engines and NIM documents no setting for their token budget; set engine to "vllm" or leave it unset`,
    ],
  ])("engine trtllm refuses %j", (setting, message) => {
    expect(problems(withService({ engine: "trtllm", ...setting }))).toEqual([message]);
  });

  it.each([
    ["g4dn.xlarge", "T4", "7.5"],
    ["p3.2xlarge", "V100-SXM2-16GB", "7.0"],
  ])("an fp8 KV cache on %s (%s, compute capability %s) is refused", (instanceType, gpu, cc) => {
    expect(problems(withService({ kvCacheDtype: "fp8", precision: "fp16" }, [{ name: "gpu0", instanceType }]))).toEqual(
      [
        `gpu-fleet:services[0].kvCacheDtype: "fp8" cannot run on ${gpu} (compute capability ${cc}) of host "gpu0": vLLM's fp8 KV cache needs 8.0 or later; expected auto`,
      ],
    );
  });

  it.each(["g5.xlarge", "p4de.24xlarge", "g6.xlarge", "p5.48xlarge"])(
    "an fp8 KV cache on %s is accepted",
    (instanceType) => {
      expect(problems(withService({ kvCacheDtype: "fp8" }, [{ name: "gpu0", instanceType }]))).toEqual([]);
    },
  );
});
