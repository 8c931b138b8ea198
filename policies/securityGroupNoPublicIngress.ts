/**
 * No port of a GPU host is open to the whole internet: not SSH, not a NIM, vector-store or
 * dashboard port. Inline `ingress` of security groups and the separate rule resources other teams
 * may use (aws:ec2/securityGroupRule, aws:vpc/securityGroupIngressRule) are all checked.
 */
import { resourcePolicy } from "./policy";
import { PlainResource, UNKNOWN, field } from "./resource";

const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

/** ICMP carries no port; ping from anywhere exposes no service. */
const ICMP_PROTOCOLS = new Set(["icmp", "1", "icmpv6", "58"]);
const ALL_PROTOCOLS = new Set(["-1", "all"]);

interface IngressRule {
  /** Where the rule sits in the resource's inputs, for the message ("ingress[0]"); empty for rule resources. */
  readonly path: string;
  readonly protocol: unknown;
  readonly fromPort: unknown;
  readonly toPort: unknown;
  readonly cidrs: readonly unknown[] | typeof UNKNOWN;
}

/** A /0 prefix of any address is the whole IPv4 or IPv6 internet ("0.0.0.0/0", "::/0"). */
export function isWorldCidr(cidr: unknown): boolean {
  return typeof cidr === "string" && /\/0+$/.test(cidr.trim());
}

function cidrList(...values: unknown[]): readonly unknown[] | typeof UNKNOWN {
  if (values.some((v) => v === UNKNOWN)) return UNKNOWN;
  return values.flatMap((v) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]));
}

function rulesOf(resource: PlainResource): IngressRule[] | typeof UNKNOWN {
  const p = resource.props;
  switch (resource.type) {
    case SECURITY_GROUP: {
      if (p.ingress === UNKNOWN) return UNKNOWN;
      const ingress = Array.isArray(p.ingress) ? p.ingress : [];
      return ingress.map((r, i) => ({
        path: `ingress[${i}]`,
        protocol: field(r, "protocol"),
        fromPort: field(r, "fromPort"),
        toPort: field(r, "toPort"),
        cidrs: cidrList(field(r, "cidrBlocks"), field(r, "ipv6CidrBlocks")),
      }));
    }
    case GROUP_RULE:
      // An unknown type might be "ingress": check it rather than assume egress.
      if (p.type !== "ingress" && p.type !== UNKNOWN) return [];
      return [
        {
          path: "",
          protocol: p.protocol,
          fromPort: p.fromPort,
          toPort: p.toPort,
          cidrs: cidrList(p.cidrBlocks, p.ipv6CidrBlocks),
        },
      ];
    case INGRESS_RULE:
      return [
        {
          path: "",
          protocol: p.ipProtocol,
          fromPort: p.fromPort,
          toPort: p.toPort,
          cidrs: cidrList(p.cidrIpv4, p.cidrIpv6),
        },
      ];
    default:
      return [];
  }
}

/** "port 22 (SSH) over tcp", "ports 8000-8010 over tcp", "all ports". */
export function describePorts(protocol: unknown, fromPort: unknown, toPort: unknown): string {
  const proto = typeof protocol === "number" ? String(protocol) : protocol;
  if (typeof proto === "string" && ALL_PROTOCOLS.has(proto.toLowerCase())) return "all ports and protocols";
  const over = proto === UNKNOWN ? " (protocol unknown at preview)" : typeof proto === "string" ? ` over ${proto}` : "";
  if (typeof fromPort !== "number" || typeof toPort !== "number") return `ports unknown at preview${over}`;
  if (fromPort === toPort) return `port ${fromPort}${fromPort === 22 ? " (SSH)" : ""}${over}`;
  const ssh = fromPort <= 22 && 22 <= toPort ? " (including SSH port 22)" : "";
  return `ports ${fromPort}-${toPort}${ssh}${over}`;
}

function isIcmp(protocol: unknown): boolean {
  return typeof protocol === "string" && ICMP_PROTOCOLS.has(protocol.toLowerCase());
}

export function publicIngressViolations(resource: PlainResource): string[] {
  const what = resource.type === SECURITY_GROUP ? "security group" : "security group rule";
  const rules = rulesOf(resource);
  const label = (rule: IngressRule) => `${what} "${resource.name}"${rule.path ? ` ${rule.path}` : ""}`;
  if (rules === UNKNOWN) {
    return [
      `${what} "${resource.name}": ingress is unknown at preview, so public exposure cannot be checked; declare ingress rules with literal ports and CIDRs`,
    ];
  }
  const messages: string[] = [];
  for (const rule of rules) {
    if (isIcmp(rule.protocol)) continue;
    if (rule.cidrs === UNKNOWN || rule.cidrs.some((c) => c === UNKNOWN)) {
      messages.push(
        `${label(rule)}: the source CIDRs are unknown at preview, so public exposure cannot be checked; use literal CIDRs`,
      );
      continue;
    }
    const world = rule.cidrs.filter(isWorldCidr);
    if (world.length === 0) continue;
    messages.push(
      `${label(rule)} opens ${describePorts(rule.protocol, rule.fromPort, rule.toPort)} to ${world.join(" and ")}; allow only the addresses that need it (for SSH, gpu-fleet:hosts[].sshAllowedCidrs) — GPU hosts serve nothing to the whole internet`,
    );
  }
  return messages;
}

export const securityGroupNoPublicIngress = resourcePolicy({
  name: "security-group-no-public-ingress",
  description: "Security groups must not open SSH or any service port to the whole internet (0.0.0.0/0 or ::/0).",
  enforcementLevel: "mandatory",
  violations: publicIngressViolations,
});
