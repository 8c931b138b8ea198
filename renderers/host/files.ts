/**
 * Writes a set of text files (configuration a container mounts) under one directory on a host:
 * atomically per file, only when the content changed, with a count of what changed. The contents
 * travel inside the script as quoted here-documents: nothing in them is expanded.
 */
import { createHash } from "node:crypto";
import { ScriptOptions, scriptPrelude, shQuote, specHash } from "../shell";

const SAFE_RELATIVE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** A here-document delimiter that cannot occur as a line of the content it wraps. */
function delimiterFor(content: string): string {
  let salt = 0;
  for (;;) {
    const tag = `GPU_FLEET_EOF_${createHash("sha256").update(`${salt}:${content}`).digest("hex").slice(0, 12)}`;
    if (!content.split("\n").includes(tag)) return tag;
    salt++;
  }
}

/** The digest containers that mount these files carry as a label, so new files restart them. */
export function filesHash(files: Readonly<Record<string, string>>): string {
  return specHash(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function renderWriteFilesScript(
  purpose: string,
  baseDir: string,
  files: Readonly<Record<string, string>>,
  options: ScriptOptions = {},
): string {
  const blocks = Object.entries(files)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, content]) => {
      if (!SAFE_RELATIVE_PATH.test(path) || path.split("/").includes(".."))
        throw new Error(`file path "${path}" must be relative, of letters, digits, . _ - and /`);
      const body = content.endsWith("\n") ? content : `${content}\n`;
      const tag = delimiterFor(body);
      return `write_file ${shQuote(`${baseDir}/${path}`)} <<'${tag}'\n${body}${tag}`;
    });
  return `${scriptPrelude(purpose, options)}base=${shQuote(baseDir)}
changed=0
write_file() {
  local staged
  staged="$(mktemp)"
  cat > "$staged"
  if as_root test -f "$1" && as_root cmp -s "$staged" "$1"; then rm -f "$staged"; return 0; fi
  as_root install -D -m 0644 "$staged" "$1.tmp"
  as_root mv -f "$1.tmp" "$1"
  rm -f "$staged"
  changed=$((changed + 1))
}
${blocks.join("\n")}
if [ "$changed" -eq 0 ]; then log "unchanged: ${Object.keys(files).length} files under $base"; else log "wrote $changed of ${Object.keys(files).length} files under $base"; fi
`;
}

/** The delete step of renderWriteFilesScript: its files, then the directories they leave empty. */
export function renderRemoveFilesScript(
  purpose: string,
  baseDir: string,
  paths: readonly string[],
  options: ScriptOptions = {},
): string {
  const files = [...paths].sort().map((p) => shQuote(`${baseDir}/${p}`));
  return `${scriptPrelude(purpose, options)}base=${shQuote(baseDir)}
as_root rm -f ${files.join(" ")}
if as_root test -d "$base"; then as_root find "$base" -depth -type d -empty -delete; fi
log "removed ${paths.length} files under $base"
`;
}
