/**
 * Every GPU check reads a host ledger; a GPU instance without one would pass them all by having
 * nothing to check. This stack policy closes that gap: each EC2 instance of a GPU family must have
 * a ledger for its host (GpuHost tags the instance with `gpu-fleet:host` and registers
 * `<host>-ledger` with the same host name).
 */
import { LEDGER_KIND } from "../fleet/hostLedger";
import { LEDGER_NAME_SUFFIX, findLedger } from "./hostLedgers";
import { stackPolicy } from "./policy";
import { PlainResource, UNKNOWN, field } from "./resource";

const INSTANCE = "aws:ec2/instance:Instance";
const HOST_TAG = "gpu-fleet:host";
/** EC2's GPU families are the g* and p* families (g4dn, g5, g6e, p4d, p5, …). */
const GPU_FAMILY = /^[gp]\d/;

/** The fleet host an instance belongs to: its gpu-fleet:host tag, else its name without "-instance". */
export function hostOfInstance(resource: PlainResource): string {
  const tag = field(resource.props, "tags", HOST_TAG);
  return typeof tag === "string" ? tag : resource.name.replace(/-instance$/, "");
}

export function missingLedgerViolations(resources: readonly PlainResource[]): string[] {
  const covered = new Set<string>();
  for (const r of resources) {
    const found = findLedger(r);
    if (found.kind === "ledger") covered.add(found.doc.host);
    // An unreadable ledger is reported by every GPU policy already; do not report it twice.
    if (found.kind === "unreadable") covered.add(r.name.slice(0, -LEDGER_NAME_SUFFIX.length));
  }
  const messages: string[] = [];
  for (const r of resources) {
    if (r.type !== INSTANCE) continue;
    const type = r.props.instanceType;
    if (type === UNKNOWN) {
      messages.push(
        `EC2 instance "${r.name}": instanceType is unknown at preview, so it cannot be told whether it is a GPU host that needs a ledger; set a literal instance type`,
      );
      continue;
    }
    if (typeof type !== "string" || !GPU_FAMILY.test(type)) continue;
    const host = hostOfInstance(r);
    if (covered.has(host)) continue;
    messages.push(
      `EC2 instance "${r.name}" (${type}) has no host ledger: no command:remote:Command carries a ${LEDGER_KIND} document for host "${host}", so none of the GPU checks can run; create GPU hosts with GpuHost, which registers "${host}${LEDGER_NAME_SUFFIX}"`,
    );
  }
  return messages;
}

export const gpuHostsHaveLedgers = stackPolicy({
  name: "gpu-hosts-have-ledgers",
  description: "Every GPU instance must have a host ledger, so the GPU memory checks have something to check.",
  enforcementLevel: "mandatory",
  violations: missingLedgerViolations,
});
