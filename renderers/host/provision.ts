/**
 * Host preparation for NIM: a recent enough NVIDIA driver, the NVIDIA Container Toolkit wired into
 * Docker, and the data volume mounted where model caches and databases live.
 */
import { ScriptOptions, DEFAULT_HOST_PATHS, scriptPrelude, shQuote } from "../shell";

/** NIM for LLMs needs driver 535+ (NIM support matrix: "NVIDIA Driver >= 535", CUDA 12.2). */
export const MIN_DRIVER_MAJOR = 535;

export interface ProvisionSpec {
  readonly host: string;
  /**
   * "ebs": find the one attached EBS volume that does not hold / (Nitro exposes EBS volumes as NVMe
   * disks whose model is "Amazon Elastic Block Store"), format it once, mount it by UUID.
   * "directory": an existing machine; the data directory is created if missing.
   */
  readonly dataVolume: "ebs" | "directory";
}

/**
 * fstab(5) separates fields by blanks: a blank, tab, newline or backslash inside the mount point is
 * written as its octal escape (\040 for a space), which mount(8) decodes.
 */
export function fstabField(path: string): string {
  return path.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

export function renderProvisionScript(spec: ProvisionSpec, options: ScriptOptions = {}): string {
  const paths = options.paths ?? DEFAULT_HOST_PATHS;
  // Assigned once at the top; every use is "$data_dir", which bash never evaluates again.
  const data = `"$data_dir"`;
  const mountStep =
    spec.dataVolume === "ebs"
      ? `
# The data volume survives instance replacement: format it only when it has no filesystem yet.
root_disk="$(lsblk -no PKNAME "$(findmnt -no SOURCE /)" | head -n1)"
device=""
for _ in $(seq 1 60); do
  candidates="$(lsblk -dno NAME,MODEL | awk -v root="$root_disk" '$1 != root && /Amazon Elastic Block Store/ {print $1}')"
  if [ "$(printf '%s\\n' "$candidates" | grep -c .)" -eq 1 ]; then device="/dev/$candidates"; break; fi
  sleep 2
done
[ -n "$device" ] || fail "expected exactly one attached EBS data volume besides the root disk, found: \${candidates:-none}"
if ! as_root blkid "$device" >/dev/null 2>&1; then
  log "formatting new data volume $device"
  as_root mkfs.ext4 -q -L gpu-fleet-data "$device"
fi
uuid="$(as_root blkid -s UUID -o value "$device")"
as_root install -d -m 0755 ${data}
if ! grep -q "UUID=$uuid" /etc/fstab; then
  printf 'UUID=%s %s ext4 defaults,nofail,x-systemd.device-timeout=30 0 2\\n' "$uuid" ${shQuote(fstabField(paths.dataDir))} | as_root tee -a /etc/fstab >/dev/null
fi
mountpoint -q ${data} || as_root mount ${data}
`
      : `
as_root install -d -m 0755 ${data}
`;
  return `${scriptPrelude(`prepare host "${spec.host}" for NIM`, options)}data_dir=${shQuote(paths.dataDir)}
config_dir=${shQuote(paths.configDir)}
# Boot-time configuration (cloud-init) must be finished before we look at drivers and disks. A machine
# where cloud-init never ran (or is disabled) would make \`--wait\` wait for ever: only wait when it
# has work, and never longer than 10 minutes.
if command -v cloud-init >/dev/null 2>&1; then
  case "$(cloud-init status 2>/dev/null || true)" in
    *"not run"*|*disabled*) ;;
    *) as_root timeout 600 cloud-init status --wait >/dev/null 2>&1 || log "cloud-init did not report done within 10 minutes; going on" ;;
  esac
fi

command -v nvidia-smi >/dev/null 2>&1 || fail "nvidia-smi not found: install the NVIDIA driver ${MIN_DRIVER_MAJOR}+ (the Deep Learning Base OSS NVIDIA driver AMI ships it)"
# A driver that is installed but not loaded makes nvidia-smi fail: say so with its own words.
if ! smi_report="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>&1)"; then
  fail "nvidia-smi cannot reach the NVIDIA driver: $(printf '%s\\n' "$smi_report" | head -n1)"
fi
driver="$(printf '%s\\n' "$smi_report" | head -n1 | tr -d ' ')"
[ "\${driver%%.*}" -ge ${MIN_DRIVER_MAJOR} ] 2>/dev/null || fail "NVIDIA driver \${driver:-unknown} is older than ${MIN_DRIVER_MAJOR}; NIM needs ${MIN_DRIVER_MAJOR}+"
log "NVIDIA driver $driver"

command -v docker >/dev/null 2>&1 || fail "docker not found: install Docker 23.0.1+ (NIM support matrix)"
command -v nvidia-ctk >/dev/null 2>&1 || fail "nvidia-ctk not found: install the NVIDIA Container Toolkit"
if ! as_root docker info --format '{{json .Runtimes}}' | grep -q '"nvidia"'; then
  log "registering the NVIDIA runtime with Docker"
  as_root nvidia-ctk runtime configure --runtime=docker >/dev/null
  as_root systemctl restart docker
fi
${mountStep}
for dir in nim-cache databases; do as_root install -d -m 0755 ${data}/"$dir"; done
# Files Pulumi copies over SFTP (programs, corpora) land here, writable by the SSH user.
as_root install -d -m 0755 -o "$(id -un)" ${data}/staging
as_root install -d -m 0755 "$config_dir"
log "host ready: driver $driver, data at $data_dir"
`;
}
