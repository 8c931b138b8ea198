/**
 * IMDSv2 only: with IMDSv1 any process that can make a plain GET — a container on the GPU host, a
 * model server following a crafted URL — can read the instance role's credentials.
 */
import { resourcePolicy } from "./policy";
import { PlainResource, UNKNOWN, field, show } from "./resource";

export const IMDS_TYPES: Readonly<Record<string, string>> = {
  "aws:ec2/instance:Instance": "EC2 instance",
  "aws:ec2/launchTemplate:LaunchTemplate": "launch template",
};

export function imdsv2Violations(resource: PlainResource): string[] {
  const what = IMDS_TYPES[resource.type];
  if (!what) return [];
  const options = field(resource.props, "metadataOptions");
  const endpoint = field(options, "httpEndpoint");
  const tokens = field(options, "httpTokens");
  // A disabled metadata endpoint serves nothing, so it needs no tokens either.
  if (endpoint === "disabled") return [];
  if (tokens === "required") return [];
  if (tokens === UNKNOWN) {
    return [
      `${what} "${resource.name}": metadataOptions.httpTokens is unknown at preview, so IMDSv2 cannot be checked; set metadataOptions.httpTokens to the literal "required"`,
    ];
  }
  return [
    `${what} "${resource.name}" does not require IMDSv2 (metadataOptions.httpTokens is ${show(tokens)}); set metadataOptions: { httpTokens: "required" } so containers on the host cannot read the instance role's credentials with a plain GET`,
  ];
}

export const ec2InstanceImdsv2Required = resourcePolicy({
  name: "ec2-instance-imdsv2-required",
  description:
    "EC2 instances and launch templates must require IMDSv2 session tokens for the instance metadata service.",
  enforcementLevel: "mandatory",
  violations: imdsv2Violations,
});
