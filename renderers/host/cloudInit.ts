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
  return `#cloud-config
# gpu-fleet host "${spec.host}": ${spec.gpuCount} x ${spec.gpuModel}
write_files:
  - path: /etc/gpu-fleet/host.json
    permissions: "0644"
    owner: root:root
    content: '${hostJson}'
runcmd:
  - [sh, -c, "nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"]
`;
}
