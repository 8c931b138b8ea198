/**
 * Security policies: a passing fixture shaped like what GpuHost/NimService register, then one
 * change per failing case with the exact message, and unknowns as a preview delivers them.
 */
import { describe, expect, it } from "vitest";
import { planFleet } from "../../fleet/plan";

import { ebsVolumesEncrypted } from "../../policies/ebsVolumesEncrypted";
import { ec2InstanceImdsv2Required } from "../../policies/ec2InstanceImdsv2Required";
import { isLegacyNgcKey, noPlaintextSecrets } from "../../policies/noPlaintextSecrets";
import { describePorts, isWorldCidr, securityGroupNoPublicIngress } from "../../policies/securityGroupNoPublicIngress";
import { renderContainerStartScript, renderContainerStopScript } from "../../renderers/container/container";
import { renderStdinFileScript } from "../../renderers/shell";
import { secretEnvFilePath } from "../../renderers/nim/serviceSpec";
import { containerSpecFor } from "../../renderers/nim/serviceSpec";
import { renderLedgerWriteScript } from "../../renderers/host/ledgerFile";
import { renderCloudInit } from "../../renderers/host/cloudInit";
import type { EvaluatedResource } from "../../policies/evaluate";
import {
  A100_CONFIG,
  FAKE_NGC_KEY,
  containerCommand,
  dataVolume,
  ec2Instance,
  ngcKeyCommand,
  securityGroup,
} from "./fixtures";
import { UNKNOWN_ARRAY, UNKNOWN_OBJECT, UNKNOWN_STRING, mandatory, runResourcePolicy } from "./helpers";
import { validateStackConfig } from "../../stackConfig";

const change = (r: EvaluatedResource, props: Record<string, unknown>): EvaluatedResource => ({
  ...r,
  props: { ...r.props, ...props },
});

describe("ec2-instance-imdsv2-required", () => {
  const policy = ec2InstanceImdsv2Required;
  const advice = `set metadataOptions: { httpTokens: "required" } so containers on the host cannot read the instance role's credentials with a plain GET`;

  it("passes the GpuHost instance (httpTokens required) and a disabled endpoint", () => {
    expect(runResourcePolicy(policy, ec2Instance())).toEqual([]);
    expect(runResourcePolicy(policy, change(ec2Instance(), { metadataOptions: { httpEndpoint: "disabled" } }))).toEqual(
      [],
    );
    expect(runResourcePolicy(policy, dataVolume())).toEqual([]);
  });

  it.each([
    [
      "httpTokens optional",
      { metadataOptions: { httpEndpoint: "enabled", httpTokens: "optional" } },
      `(metadataOptions.httpTokens is "optional")`,
    ],
    ["no metadataOptions", { metadataOptions: undefined }, "(metadataOptions.httpTokens is not set)"],
    [
      "metadataOptions without httpTokens",
      { metadataOptions: { httpPutResponseHopLimit: 2 } },
      "(metadataOptions.httpTokens is not set)",
    ],
  ])("fails with %s", (_case, props, why) => {
    expect(runResourcePolicy(policy, change(ec2Instance(), props))).toEqual(
      mandatory(`EC2 instance "dgx-instance" does not require IMDSv2 ${why}; ${advice}`),
    );
  });

  it("checks launch templates too", () => {
    const template: EvaluatedResource = {
      type: "aws:ec2/launchTemplate:LaunchTemplate",
      name: "gpu-nodes",
      props: { imageId: "ami-1" },
    };
    expect(runResourcePolicy(policy, template)).toEqual(
      mandatory(
        `launch template "gpu-nodes" does not require IMDSv2 (metadataOptions.httpTokens is not set); ${advice}`,
      ),
    );
  });

  it.each([
    ["httpTokens", { metadataOptions: { httpEndpoint: "enabled", httpTokens: UNKNOWN_STRING } }],
    ["the whole metadataOptions", { metadataOptions: UNKNOWN_OBJECT }],
  ])("stays mandatory when %s is unknown at preview", (_case, props) => {
    expect(runResourcePolicy(policy, change(ec2Instance(), { ...props, ami: UNKNOWN_STRING }))).toEqual(
      mandatory(
        `EC2 instance "dgx-instance": metadataOptions.httpTokens is unknown at preview, so IMDSv2 cannot be checked; set metadataOptions.httpTokens to the literal "required"`,
      ),
    );
  });
});

describe("ebs-volumes-encrypted", () => {
  const policy = ebsVolumesEncrypted;
  const why = "the disk holds model caches, vector data and the NGC key file";

  it("passes the GpuHost instance and data volume", () => {
    expect(runResourcePolicy(policy, ec2Instance())).toEqual([]);
    expect(runResourcePolicy(policy, dataVolume())).toEqual([]);
    expect(
      runResourcePolicy(
        policy,
        change(ec2Instance(), { ebsBlockDevices: [{ deviceName: "/dev/sdg", encrypted: true }] }),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      "data volume encrypted: false",
      dataVolume(),
      { encrypted: false },
      `EBS volume "dgx-data" is not encrypted (encrypted is false); set encrypted: true — ${why}`,
    ],
    [
      "data volume without encrypted",
      dataVolume(),
      { encrypted: undefined },
      `EBS volume "dgx-data" is not encrypted (encrypted is not set); set encrypted: true — ${why}`,
    ],
    [
      "root device without encrypted",
      ec2Instance(),
      { rootBlockDevice: { volumeSize: 100, volumeType: "gp3" } },
      `EC2 instance "dgx-instance" is not encrypted (rootBlockDevice.encrypted is not set); set rootBlockDevice.encrypted: true — ${why}`,
    ],
    [
      "no root device settings (the AMI's default)",
      ec2Instance(),
      { rootBlockDevice: undefined },
      `EC2 instance "dgx-instance" is not encrypted (rootBlockDevice.encrypted is not set); set rootBlockDevice.encrypted: true — ${why}`,
    ],
    [
      "an unencrypted extra block device",
      ec2Instance(),
      {
        ebsBlockDevices: [
          { deviceName: "/dev/sdg", encrypted: true },
          { deviceName: "/dev/sdh", encrypted: false },
        ],
      },
      `EC2 instance "dgx-instance" is not encrypted (ebsBlockDevices[1].encrypted is false); set ebsBlockDevices[1].encrypted: true — ${why}`,
    ],
  ])("fails with %s", (_case, resource, props, message) => {
    expect(runResourcePolicy(policy, change(resource, props))).toEqual(mandatory(message));
  });

  it("stays mandatory when encryption settings are unknown at preview", () => {
    expect(
      runResourcePolicy(policy, change(dataVolume(), { encrypted: UNKNOWN_STRING, availabilityZone: UNKNOWN_STRING })),
    ).toEqual(
      mandatory(
        `EBS volume "dgx-data": encrypted is unknown at preview, so disk encryption cannot be checked; set it to the literal true`,
      ),
    );
    expect(runResourcePolicy(policy, change(ec2Instance(), { ebsBlockDevices: UNKNOWN_ARRAY }))).toEqual(
      mandatory(
        `EC2 instance "dgx-instance": ebsBlockDevices is unknown at preview, so disk encryption cannot be checked; declare block devices with literal settings`,
      ),
    );
  });
});

describe("security-group-no-public-ingress", () => {
  const policy = securityGroupNoPublicIngress;
  const advice =
    "allow only the addresses that need it (for SSH, gpu-fleet:hosts[].sshAllowedCidrs) — GPU hosts serve nothing to the whole internet";

  it("passes SSH from one address, no ingress at all, and egress to anywhere", () => {
    expect(runResourcePolicy(policy, securityGroup())).toEqual([]);
    expect(runResourcePolicy(policy, change(securityGroup(), { ingress: [] }))).toEqual([]);
    expect(runResourcePolicy(policy, change(securityGroup(), { ingress: undefined }))).toEqual([]);
    const egress: EvaluatedResource = {
      type: "aws:ec2/securityGroupRule:SecurityGroupRule",
      name: "out",
      props: {
        type: "egress",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["0.0.0.0/0"],
        securityGroupId: "sg-1",
      },
    };
    expect(runResourcePolicy(policy, egress)).toEqual([]);
  });

  it("passes ping from anywhere: ICMP has no port", () => {
    const ping = { protocol: "icmp", fromPort: 8, toPort: 0, cidrBlocks: ["0.0.0.0/0"] };
    expect(runResourcePolicy(policy, change(securityGroup(), { ingress: [ping] }))).toEqual([]);
  });

  it("fails with SSH open to 0.0.0.0/0", () => {
    expect(runResourcePolicy(policy, securityGroup("dgx", ["0.0.0.0/0"]))).toEqual(
      mandatory(`security group "dgx-sg" ingress[0] opens port 22 (SSH) over tcp to 0.0.0.0/0; ${advice}`),
    );
  });

  it("fails with a NIM port open to ::/0 next to a private rule", () => {
    const ingress = [
      { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.7/32"] },
      { protocol: "tcp", fromPort: 8000, toPort: 8000, cidrBlocks: ["10.0.0.0/16"], ipv6CidrBlocks: ["::/0"] },
    ];
    expect(runResourcePolicy(policy, change(securityGroup(), { ingress }))).toEqual(
      mandatory(`security group "dgx-sg" ingress[1] opens port 8000 over tcp to ::/0; ${advice}`),
    );
  });

  it("fails with separate rule resources other teams use", () => {
    const vpcRule: EvaluatedResource = {
      type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      name: "grafana-public",
      props: { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 3000, toPort: 3000, cidrIpv4: "0.0.0.0/0" },
    };
    expect(runResourcePolicy(policy, vpcRule)).toEqual(
      mandatory(`security group rule "grafana-public" opens port 3000 over tcp to 0.0.0.0/0; ${advice}`),
    );
    const ec2Rule: EvaluatedResource = {
      type: "aws:ec2/securityGroupRule:SecurityGroupRule",
      name: "open-all",
      props: {
        type: "ingress",
        securityGroupId: "sg-1",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"],
      },
    };
    expect(runResourcePolicy(policy, ec2Rule)).toEqual(
      mandatory(`security group rule "open-all" opens all ports and protocols to 0.0.0.0/0; ${advice}`),
    );
  });

  it("stays mandatory when ingress or its CIDRs are unknown at preview", () => {
    expect(runResourcePolicy(policy, change(securityGroup(), { ingress: UNKNOWN_ARRAY }))).toEqual(
      mandatory(
        `security group "dgx-sg": ingress is unknown at preview, so public exposure cannot be checked; declare ingress rules with literal ports and CIDRs`,
      ),
    );
    const ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [UNKNOWN_STRING] }];
    expect(runResourcePolicy(policy, change(securityGroup(), { ingress, vpcId: UNKNOWN_STRING }))).toEqual(
      mandatory(
        `security group "dgx-sg" ingress[0]: the source CIDRs are unknown at preview, so public exposure cannot be checked; use literal CIDRs`,
      ),
    );
  });

  it.each([
    ["0.0.0.0/0", true],
    ["::/0", true],
    ["0::/0", true],
    ["10.0.0.0/8", false],
    ["203.0.113.7/32", false],
    ["2001:db8::/32", false],
  ])("isWorldCidr(%s) is %s", (cidr, world) => {
    expect(isWorldCidr(cidr)).toBe(world);
  });

  it.each([
    ["tcp", 22, 22, "port 22 (SSH) over tcp"],
    ["tcp", 0, 65535, "ports 0-65535 (including SSH port 22) over tcp"],
    ["udp", 8000, 8010, "ports 8000-8010 over udp"],
    ["-1", 0, 0, "all ports and protocols"],
    ["all", 0, 0, "all ports and protocols"],
    [-1, 0, 0, "all ports and protocols"],
  ])("describePorts(%s, %s, %s) is %s", (protocol, from, to, text) => {
    expect(describePorts(protocol, from, to)).toBe(text);
  });
});

describe("no-plaintext-secrets", () => {
  const policy = noPlaintextSecrets;
  const ngcAdvice =
    "deliver the key only on the stdin of a *-ngc-key command, from the secret gpu-fleet:ngcApiKey, and read it on the host from the 0600 file that command writes";
  const passwordAdvice =
    "deliver it only on the stdin of a *-password command, from a secret config value, and read it on the host from the 0600 file that command writes";
  const at = (name: string, path: string, what: string, advice: string) =>
    `resource "${name}" (command:remote:Command) input ${path} ${what}; ${advice}`;
  /** A key of the legacy shape: base64 of "<26 characters>:<uuid>" (made up). */
  const legacyKey = Buffer.from("abcdefghijklmnopqrstuvwxyz:3d9a2b14-1111-2222-3333-444455556666").toString("base64");

  it("passes the key on the stdin of a *-ngc-key command, the one allowed channel", () => {
    expect(runResourcePolicy(policy, ngcKeyCommand("llm"))).toEqual([]);
    expect(runResourcePolicy(policy, ngcKeyCommand("llm", legacyKey))).toEqual([]);
    const password: EvaluatedResource = {
      type: "command:remote:Command",
      name: "iris-password",
      props: { create: "umask 077; cat > /etc/gpu-fleet/secrets/iris.pw", stdin: "ISC_PASSWORD=Sup3r-Secret" },
    };
    expect(runResourcePolicy(policy, password)).toEqual([]);
    // VectorizerJob's env file carries the IRIS password and a hosted-API key together.
    const vectorizer: EvaluatedResource = {
      type: "command:remote:Command",
      name: "vectorizer-secrets",
      props: {
        create: "cat > /etc/gpu-fleet/vectorizer/vectorizer.env",
        stdin: "IRIS_PASSWORD=Sup3r-Secret\nNVIDIA_API_KEY=nvapi-abcdefghijklmnopqrstuvwxyz0123456789\n",
      },
    };
    expect(runResourcePolicy(policy, vectorizer)).toEqual([]);
    // The same stdin on any other command is a leak.
    expect(runResourcePolicy(policy, { ...vectorizer, name: "vectorizer-ingest" })).toEqual(
      mandatory(at("vectorizer-ingest", "stdin", "holds an NGC API key (nvapi-…) in plain text", ngcAdvice)),
    );
  });

  it("passes the container that reads the key from its env file", () => {
    expect(
      runResourcePolicy(policy, containerCommand("llm", "nvcr.io/nim/meta/llama-3.1-70b-instruct:1.3.3", [2, 3], 8000)),
    ).toEqual([]);
  });

  it("passes every script the real renderers produce for the a100 stack", () => {
    const plan = planFleet(validateStackConfig(A100_CONFIG));
    const host = plan.hosts[0];
    const scripts = plan.services.flatMap((s) => {
      const spec = containerSpecFor(s, host);
      return [
        renderContainerStartScript(spec),
        renderContainerStopScript(s.name),
        renderStdinFileScript(`install the secret env file of ${s.name}`, secretEnvFilePath(s.name), "0600"),
      ];
    });
    const resource: EvaluatedResource = {
      type: "command:remote:Command",
      name: "all-scripts",
      props: {
        create: scripts,
        update: renderLedgerWriteScript("dgx"),
        userData: renderCloudInit({ host: "dgx", gpuModel: host.gpu.name, gpuCount: host.gpuCount }),
      },
    };
    expect(runResourcePolicy(policy, resource)).toEqual([]);
  });

  it("still scans the other inputs of the allowed channel", () => {
    const leaky = change(ngcKeyCommand("llm"), { create: `echo ${FAKE_NGC_KEY} > /etc/gpu-fleet/secrets/llm.env` });
    expect(runResourcePolicy(policy, leaky)).toEqual(
      mandatory(at("llm-ngc-key", "create", "holds an NGC API key (nvapi-…) in plain text", ngcAdvice)),
    );
  });

  it("fails with the key on stdin of a command not named as a secret channel", () => {
    const leaky = { ...ngcKeyCommand("llm"), name: "llm-env" };
    expect(runResourcePolicy(policy, leaky)).toEqual(
      mandatory(at("llm-env", "stdin", "holds an NGC API key (nvapi-…) in plain text", ngcAdvice)),
    );
  });

  const container = containerCommand("llm", "nvcr.io/nim/meta/llama-3.1-70b-instruct:1.3.3", [2, 3], 8000);
  it.each([
    [
      "docker run -e NGC_API_KEY=<key>",
      { create: `docker run -e NGC_API_KEY=${FAKE_NGC_KEY} img` },
      "create",
      "holds an NGC API key (nvapi-…) in plain text",
      ngcAdvice,
    ],
    [
      "a legacy key in a script",
      { create: `export NGC_CLI_API_KEY='${legacyKey}'` },
      "create",
      "holds a legacy NGC API key (base64) in plain text",
      ngcAdvice,
    ],
    [
      "NGC_API_KEY=<literal> of any shape",
      { create: "export NGC_API_KEY=not-a-real-key-shape" },
      "create",
      "sets NGC_API_KEY to a literal value",
      ngcAdvice,
    ],
    [
      "an environment map",
      { environment: { NIM_MAX_MODEL_LEN: "8192", NGC_API_KEY: "abc123" } },
      "environment.NGC_API_KEY",
      "sets NGC_API_KEY to a literal value",
      ngcAdvice,
    ],
    [
      "a trigger",
      { triggers: ["3f1c2a9e", FAKE_NGC_KEY] },
      "triggers[1]",
      "holds an NGC API key (nvapi-…) in plain text",
      ngcAdvice,
    ],
    [
      "an env list entry",
      { environment: [{ name: "NGC_API_KEY", value: "abc123" }] },
      "environment[0].value",
      "sets NGC_API_KEY to a literal value",
      ngcAdvice,
    ],
    [
      "--password <literal>",
      { create: "docker login nvcr.io -u '$oauthtoken' --password hunter2" },
      "create",
      "passes a literal --password",
      passwordAdvice,
    ],
    [
      "--password=<literal>",
      { delete: "iris session --password=SYS" },
      "delete",
      "passes a literal --password",
      passwordAdvice,
    ],
    [
      "docker login -p <literal>",
      { create: "docker login nvcr.io -u user -p hunter2" },
      "create",
      "passes a literal password to docker login -p",
      passwordAdvice,
    ],
    [
      "ISC_PASSWORD=<literal>",
      { create: "docker run -e ISC_PASSWORD=SYS intersystems/iris-community" },
      "create",
      "sets ISC_PASSWORD to a literal value",
      passwordAdvice,
    ],
    [
      "GF_SECURITY_ADMIN_PASSWORD in YAML",
      { create: "environment:\n  GF_SECURITY_ADMIN_PASSWORD: admin\n" },
      "create",
      "sets GF_SECURITY_ADMIN_PASSWORD to a literal value",
      passwordAdvice,
    ],
  ])("fails with %s", (_case, props, path, what, advice) => {
    expect(runResourcePolicy(policy, change(container, props))).toEqual(
      mandatory(at("llm-container", path, what, advice)),
    );
  });

  it("reports a key written as NGC_API_KEY=nvapi-… once, and a key and a password in one script separately", () => {
    const both = change(container, { create: `NGC_API_KEY=${FAKE_NGC_KEY} ISC_PASSWORD=SYS ./start.sh` });
    expect(runResourcePolicy(policy, both)).toEqual(
      mandatory(
        at("llm-container", "create", "holds an NGC API key (nvapi-…) in plain text", ngcAdvice),
        at("llm-container", "create", "sets ISC_PASSWORD to a literal value", passwordAdvice),
      ),
    );
  });

  it.each([
    ["a variable", 'docker run -e NGC_API_KEY="$NGC_API_KEY" img'],
    ["a pass-through -e NAME", "docker run -e NGC_API_KEY img"],
    ["a command substitution", 'NGC_API_KEY="$(cat /etc/gpu-fleet/secrets/llm.env)"'],
    ["a default expansion", 'echo "${NGC_API_KEY:?missing}"'],
    ["--password-stdin", "docker login nvcr.io --username '$oauthtoken' --password-stdin"],
    ["a password from a variable", 'iris session --password "$ISC_PASSWORD"'],
    ["an empty assignment", 'NGC_API_KEY=""'],
    ["a sed pattern reading the env file", "sed -n 's/^NGC_API_KEY=//p' /etc/gpu-fleet/secrets/llm.env"],
    ["a word that starts with nvapi-", "# keys look like nvapi-xxxx"],
    ["a long base64 blob that is no key", Buffer.from("x".repeat(200)).toString("base64")],
  ])("passes %s", (_case, create) => {
    expect(runResourcePolicy(policy, change(container, { create }))).toEqual([]);
  });

  it("skips values unknown at preview (they are scanned again, known, by pulumi up)", () => {
    expect(
      runResourcePolicy(
        policy,
        change(container, { create: UNKNOWN_STRING, environment: { NGC_API_KEY: UNKNOWN_STRING } }),
      ),
    ).toEqual([]);
  });

  it("recognises the legacy key shape only", () => {
    expect(isLegacyNgcKey(legacyKey)).toBe(true);
    expect(
      isLegacyNgcKey(Buffer.from("abcdefghijklmnopqrstuvwxyz:not-a-uuid-at-all-0000000000000000").toString("base64")),
    ).toBe(false);
  });
});
