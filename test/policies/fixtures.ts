/**
 * Resources as the components register them, built from a real fleet plan: the ledger documents
 * come from validateStackConfig + planFleet, so a fixture cannot drift from what the model computes.
 * Each failing case elsewhere changes one thing of these.
 */

import { HostLedgerDocument, serializeLedger } from "../../fleet/hostLedger";
import { planFleet } from "../../fleet/plan";
import type { EvaluatedResource } from "../../policies/evaluate";
import { RawStackConfig, validateStackConfig } from "../../stackConfig";

/** The 8× A100 80 GB layout of the documents we replace, with models that fit: ASR 0, embeddings + reranker 1, LLM TP2 on 2-3, OCR 4, 5-7 spare. */
export const A100_CONFIG: RawStackConfig = {
  ngcApiKey: "secret",
  hosts: [{ name: "dgx", instanceType: "p4de.24xlarge", sshAllowedCidrs: ["203.0.113.7/32"] }],
  services: [
    { name: "asr", model: "openai/whisper-large-v3", host: "dgx", gpus: [0] },
    { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "dgx", gpus: [1] },
    { name: "rerank", model: "nvidia/nv-rerankqa-mistral-4b-v3", host: "dgx", gpus: [1] },
    { name: "llm", model: "meta/llama-3.1-70b-instruct", host: "dgx", gpus: [2, 3], maxModelLen: 8192 },
    { name: "ocr", model: "rednote-hilab/dots.ocr", host: "dgx", gpus: [4] },
  ],
};

export function planLedgers(config: RawStackConfig): HostLedgerDocument[] {
  return planFleet(validateStackConfig(config)).hosts.map((h) => h.ledgerDocument);
}

export function a100Ledger(): HostLedgerDocument {
  return planLedgers(A100_CONFIG)[0];
}

type Mutable<T> = {
  -readonly [K in keyof T]: T[K] extends readonly (infer U)[]
    ? Mutable<U>[]
    : T[K] extends object
      ? Mutable<T[K]>
      : T[K];
};

/** A deep copy of a ledger with one change: what a buggy component or a hand-edited document would carry. */
export function changeLedger(
  doc: HostLedgerDocument,
  change: (d: Mutable<HostLedgerDocument>) => void,
): HostLedgerDocument {
  const copy = JSON.parse(JSON.stringify(doc)) as Mutable<HostLedgerDocument>;
  change(copy);
  return copy as HostLedgerDocument;
}

export function service(doc: Mutable<HostLedgerDocument>, name: string) {
  const s = doc.services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${name} in the ledger of ${doc.host}`);
  return s;
}

const CONNECTION = {
  host: "10.0.1.20",
  port: 22,
  user: "ubuntu",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nfixture\n-----END OPENSSH PRIVATE KEY-----\n",
};

/** The `<host>-ledger` command GpuHost registers: the document on stdin, written to /etc/gpu-fleet/ledger.json. */
export function ledgerCommand(
  doc: HostLedgerDocument | string,
  name = `${typeof doc === "string" ? "dgx" : doc.host}-ledger`,
): EvaluatedResource {
  return {
    type: "command:remote:Command",
    name,
    props: {
      connection: CONNECTION,
      create:
        "set -euo pipefail\ninstall -d -m 0755 /etc/gpu-fleet\numask 022\ncat > /etc/gpu-fleet/ledger.json.tmp\nmv /etc/gpu-fleet/ledger.json.tmp /etc/gpu-fleet/ledger.json\n",
      delete: "rm -f /etc/gpu-fleet/ledger.json\n",
      stdin: typeof doc === "string" ? doc : serializeLedger(doc),
      triggers: ["i-0123456789abcdef0"],
    },
  };
}

/** A 64-character token of the shape NGC issues (nvapi- keys); a made-up value, not a real key. */
export const FAKE_NGC_KEY = `nvapi-${"Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF".repeat(2)}`;

export function ec2Instance(host = "dgx"): EvaluatedResource {
  return {
    type: "aws:ec2/instance:Instance",
    name: `${host}-instance`,
    props: {
      ami: "ami-0abcdef1234567890",
      instanceType: "p4de.24xlarge",
      availabilityZone: "us-east-1a",
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
      rootBlockDevice: { volumeSize: 100, volumeType: "gp3", encrypted: true, deleteOnTermination: true },
      userData: "#cloud-config\npackages: [nvidia-container-toolkit]\n",
      userDataReplaceOnChange: true,
      tags: { "gpu-fleet:host": host, Name: `gpu-fleet-${host}` },
    },
  };
}

export function dataVolume(host = "dgx"): EvaluatedResource {
  return {
    type: "aws:ebs/volume:Volume",
    name: `${host}-data`,
    props: {
      availabilityZone: "us-east-1a",
      size: 500,
      type: "gp3",
      encrypted: true,
      tags: { "gpu-fleet:host": host },
    },
  };
}

export function securityGroup(host = "dgx", sshCidrs: string[] = ["203.0.113.7/32"]): EvaluatedResource {
  return {
    type: "aws:ec2/securityGroup:SecurityGroup",
    name: `${host}-sg`,
    props: {
      description: `gpu-fleet host ${host}: SSH from the allowed CIDRs only; service ports are bound privately`,
      ingress: [{ description: "SSH", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: sshCidrs }],
      // Outbound to anywhere is fine: image pulls from nvcr.io.
      egress: [{ description: "all outbound", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
      tags: { "gpu-fleet:host": host },
    },
  };
}

/** NimService's key command: the key arrives on stdin (the one allowed channel) and goes into a 0600 env file. */
export function ngcKeyCommand(service: string, key = FAKE_NGC_KEY): EvaluatedResource {
  return {
    type: "command:remote:Command",
    name: `${service}-ngc-key`,
    props: {
      connection: CONNECTION,
      create: `set -euo pipefail\numask 077\ninstall -d -m 0700 /etc/gpu-fleet/secrets\ncat > /etc/gpu-fleet/secrets/${service}.env\n`,
      delete: `rm -f /etc/gpu-fleet/secrets/${service}.env\n`,
      stdin: `NGC_API_KEY=${key}\n`,
    },
  };
}

/** NimService's container command: devices pinned, the key read from the env file, never on the command line. */
export function containerCommand(
  service: string,
  image: string,
  devices: readonly number[],
  port: number,
): EvaluatedResource {
  return {
    type: "command:remote:Command",
    name: `${service}-container`,
    props: {
      connection: CONNECTION,
      create: [
        "set -euo pipefail",
        `docker rm -f gpu-fleet-${service} >/dev/null 2>&1 || true`,
        `docker run -d --name gpu-fleet-${service} --gpus '"device=${devices.join(",")}"' --shm-size=16g \\`,
        `  --env-file /etc/gpu-fleet/secrets/${service}.env -e NIM_TENSOR_PARALLEL_SIZE=${devices.length} \\`,
        `  -p 10.0.1.20:${port}:8000 -v /data/nim-cache:/opt/nim/.cache ${image}`,
        `for i in $(seq 1 120); do curl -fsS http://10.0.1.20:${port}/v1/health/ready && exit 0; sleep 10; done; exit 1`,
      ].join("\n"),
      delete: `docker rm -f gpu-fleet-${service} || true\n`,
      triggers: ["3f1c2a9e", "llm-ngc-key-id"],
    },
  };
}

/** Everything the a100 stack registers that a policy looks at, in registration order. */
export function a100Stack(ledger: HostLedgerDocument = a100Ledger()): EvaluatedResource[] {
  return [
    securityGroup(),
    ec2Instance(),
    dataVolume(),
    ledgerCommand(ledger),
    ngcKeyCommand("llm"),
    containerCommand("llm", "nvcr.io/nim/meta/llama-3.1-70b-instruct:1.3.3", [2, 3], 8000),
    ngcKeyCommand("embed"),
    containerCommand("embed", "nvcr.io/nim/nvidia/nv-embedqa-e5-v5:1.1.0", [1], 8001),
  ];
}
