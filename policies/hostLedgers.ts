/**
 * Finds host ledgers among resources. A GPU host writes its ledger with a `command:remote:Command`
 * named `<host>-ledger` whose stdin is the ledger document (fleet/hostLedger.ts); component args never
 * reach the engine, so this stdin is the only place a policy can see the GPU map.
 */
import { Finding } from "../fleet/checks";
import { HostLedgerDocument, LEDGER_KIND, LEDGER_VERSION, parseLedger } from "../fleet/hostLedger";
import { Enforcement, FleetResourcePolicy, resourcePolicy } from "./policy";
import { PlainResource, UNKNOWN } from "./resource";

export const LEDGER_COMMAND_TYPE = "command:remote:Command";
export const LEDGER_NAME_SUFFIX = "-ledger";

export type LedgerLookup =
  | { readonly kind: "none" }
  | { readonly kind: "ledger"; readonly doc: HostLedgerDocument }
  /** Named like a ledger, but its document cannot be read: the checks cannot run. */
  | { readonly kind: "unreadable"; readonly reason: "unknown" | "invalid" };

export function findLedger(resource: PlainResource): LedgerLookup {
  if (resource.type !== LEDGER_COMMAND_TYPE) return { kind: "none" };
  const stdin = resource.props.stdin;
  const namedLedger = resource.name.endsWith(LEDGER_NAME_SUFFIX);
  if (stdin === UNKNOWN) return namedLedger ? { kind: "unreadable", reason: "unknown" } : { kind: "none" };
  const doc = parseLedger(stdin);
  if (doc) return { kind: "ledger", doc };
  return namedLedger ? { kind: "unreadable", reason: "invalid" } : { kind: "none" };
}

/** Why the checks could not run on a ledger resource, naming what cannot be checked. */
export function unreadableMessage(resource: PlainResource, reason: "unknown" | "invalid", subject: string): string {
  return reason === "unknown"
    ? `ledger of ${resource.name} is unknown at preview; ${subject} cannot be checked. The host ledger must be computed from config alone, never from another resource's outputs`
    : `${resource.name} is named like a host ledger but its stdin is not a ${LEDGER_KIND} document (version ${LEDGER_VERSION}); ${subject} cannot be checked`;
}

/**
 * A policy that runs one fleet check on every host ledger. An unreadable ledger is itself a
 * violation at the policy's own enforcement level: a mandatory GPU check never passes, nor turns
 * advisory, because a preview could not see the ledger.
 */
export function ledgerPolicy(info: {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: Enforcement;
  /** What the check proves, for the message when it cannot run ("the GPU budget"). */
  readonly subject: string;
  readonly check: (doc: HostLedgerDocument) => Finding[];
}): FleetResourcePolicy {
  const { subject, check, ...policyInfo } = info;
  return resourcePolicy({
    ...policyInfo,
    violations: (resource) => {
      const found = findLedger(resource);
      switch (found.kind) {
        case "none":
          return [];
        case "unreadable":
          return [unreadableMessage(resource, found.reason, subject)];
        case "ledger":
          return check(found.doc).map((f) => f.message);
      }
    },
  });
}
