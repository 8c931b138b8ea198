/**
 * Server-sent events parser for OpenAI-compatible streaming responses (NIM, vLLM, TensorRT-LLM all stream
 * `data: {json}` events and end with `data: [DONE]`). Pure: network chunks may split anywhere, even inside
 * a line or a CR LF pair, so the parser keeps the unfinished tail until the next chunk.
 * Event format: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

export class SseParser {
  private buffer = "";
  private data: string[] = [];

  /** Feeds decoded text; returns the `data` payloads of every event completed by it. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A trailing CR may be the first half of CR LF: wait for the next chunk to tell.
      if (m[0] === "\r" && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, events);
    }
    return events;
  }

  /** End of stream: a final event without its blank line is dropped, as the spec says. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer.length > 0) this.line(this.buffer.replace(/\r$/, ""), events);
    this.buffer = "";
    this.data = [];
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === "") {
      if (this.data.length > 0) events.push(this.data.join("\n"));
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
  }
}

/** What one `data:` payload of a chat-completions stream means for the load test. */
export type ChatStreamEvent =
  | { kind: "done" }
  | { kind: "chunk"; content: string; completionTokens: number | undefined }
  | { kind: "error"; message: string };

export function parseChatEvent(data: string): ChatStreamEvent {
  if (data.trim() === "[DONE]") return { kind: "done" };
  let obj: unknown;
  try {
    obj = JSON.parse(data);
  } catch {
    return { kind: "error", message: `not JSON: ${data.slice(0, 80)}` };
  }
  if (typeof obj !== "object" || obj === null) return { kind: "error", message: `not an object: ${data.slice(0, 80)}` };
  const o = obj as {
    error?: { message?: unknown } | string;
    choices?: { delta?: { content?: unknown } }[];
    usage?: { completion_tokens?: unknown } | null;
  };
  if (o.error !== undefined) {
    const message = typeof o.error === "string" ? o.error : String(o.error.message ?? "error");
    return { kind: "error", message };
  }
  let content = "";
  for (const c of o.choices ?? []) if (typeof c.delta?.content === "string") content += c.delta.content;
  const tokens = o.usage?.completion_tokens;
  return { kind: "chunk", content, completionTokens: typeof tokens === "number" ? tokens : undefined };
}
