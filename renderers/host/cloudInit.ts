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
  const hostJson = JSON.stringify({ host: spec.host, gpuModel: spec.gpuModel, gpuCount: spec.gpuCount });
  // The file's content is a YAML double-quoted scalar written as a JSON string (YAML 1.2 reads JSON
  // strings as such): a quote, colon or newline in a value stays inside it. The comment is one line.
  return `#cloud-config
# gpu-fleet host ${JSON.stringify(spec.host).replace(/[\u2028\u2029]/g, " ")}: ${spec.gpuCount} x ${JSON.stringify(spec.gpuModel).slice(1, -1)}
write_files:
  - path: /etc/gpu-fleet/host.json
    permissions: "0644"
    owner: root:root
    content: ${JSON.stringify(hostJson)}
runcmd:
  - [sh, -c, "nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"]
`;
}
