/**
 * Every disk of a GPU host holds model caches, vector data and the NGC key file: the root device,
 * extra block devices of an instance and separate EBS volumes must all be encrypted.
 */
import { resourcePolicy } from "./policy";
import { PlainResource, UNKNOWN, field, show } from "./resource";

const INSTANCE = "aws:ec2/instance:Instance";
const VOLUME = "aws:ebs/volume:Volume";

/** One disk setting: its input path and value. */
interface Disk {
  readonly path: string;
  readonly encrypted: unknown;
}

function disksOf(resource: PlainResource): Disk[] | typeof UNKNOWN {
  if (resource.type === VOLUME) return [{ path: "encrypted", encrypted: resource.props.encrypted }];
  if (resource.type !== INSTANCE) return [];
  const extra = resource.props.ebsBlockDevices;
  if (extra === UNKNOWN) return UNKNOWN;
  const devices = Array.isArray(extra) ? extra : [];
  return [
    { path: "rootBlockDevice.encrypted", encrypted: field(resource.props, "rootBlockDevice", "encrypted") },
    ...devices.map((d, i) => ({ path: `ebsBlockDevices[${i}].encrypted`, encrypted: field(d, "encrypted") })),
  ];
}

export function encryptionViolations(resource: PlainResource): string[] {
  const what = resource.type === VOLUME ? "EBS volume" : "EC2 instance";
  const disks = disksOf(resource);
  if (disks === UNKNOWN) {
    return [
      `${what} "${resource.name}": ebsBlockDevices is unknown at preview, so disk encryption cannot be checked; declare block devices with literal settings`,
    ];
  }
  return disks
    .filter((d) => d.encrypted !== true)
    .map((d) =>
      d.encrypted === UNKNOWN
        ? `${what} "${resource.name}": ${d.path} is unknown at preview, so disk encryption cannot be checked; set it to the literal true`
        : `${what} "${resource.name}" is not encrypted (${d.path} is ${show(d.encrypted)}); set ${d.path}: true — the disk holds model caches, vector data and the NGC key file`,
    );
}

export const ebsVolumesEncrypted = resourcePolicy({
  name: "ebs-volumes-encrypted",
  description: "Root devices, block devices and EBS volumes of GPU hosts must be encrypted.",
  enforcementLevel: "mandatory",
  violations: encryptionViolations,
});
