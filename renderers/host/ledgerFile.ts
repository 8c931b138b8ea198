/** The host ledger on the host: /etc/gpu-fleet/ledger.json, written from stdin, readable by operators. */
import { DEFAULT_HOST_PATHS, HostPaths, ScriptOptions, renderRemoveFileScript, renderStdinFileScript } from "../shell";

export function ledgerPath(paths: HostPaths = DEFAULT_HOST_PATHS): string {
  return `${paths.configDir}/ledger.json`;
}

export function renderLedgerWriteScript(host: string, options: ScriptOptions = {}): string {
  return renderStdinFileScript(`write the GPU ledger of host "${host}"`, ledgerPath(options.paths), "0644", options);
}

export function renderLedgerRemoveScript(host: string, options: ScriptOptions = {}): string {
  return renderRemoveFileScript(`remove the GPU ledger of host "${host}"`, ledgerPath(options.paths), options);
}
