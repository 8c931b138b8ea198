/**
 * EC2 user data. The Deep Learning Base AMI already has the driver, Docker and the NVIDIA Container
 * Toolkit; boot only records what the host is for and makes Docker use the NVIDIA runtime. Everything
 * that needs the data volume happens over SSH after the volume is attached.
 */

export interface CloudInitSpec {
  readonly host: string;
  readonly gpuModel: string;
  readonly gpuCount: number;
}

export function renderCloudInit(spec: CloudInitSpec): string {
  // PyYAML (cloud-init's parser, YAML 1.1) also breaks lines at NEL, LS and PS: JSON escapes them too.
  const hostJson = JSON.stringify({ host: spec.host, gpuModel: spec.gpuModel, gpuCount: spec.gpuCount }).replace(
    /[\u0085\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  // JSON text has no raw line breaks; in a YAML single-quoted scalar only ' is special, written ''.
  // (The bytes stay those of earlier versions for every valid host name: user data that changes
  // would show as an update of every deployed instance.) The comment is kept to one line.
  const oneLine = (text: string) => text.replace(/[\x00-\x1f\x7f\u0085\u2028\u2029]/g, " ");
  return `#cloud-config
# gpu-fleet host "${oneLine(spec.host)}": ${spec.gpuCount} x ${oneLine(spec.gpuModel)}
write_files:
  - path: /etc/gpu-fleet/host.json
    permissions: "0644"
    owner: root:root
    content: '${hostJson.replace(/'/g, "''")}'
runcmd:
  - [sh, -c, "nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"]
`;
}
