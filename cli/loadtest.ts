/**
 * npm run loadtest -- --endpoint URL --model M --concurrency N --duration S [--json] [--max-tokens N]
 *                     [--prompt TEXT]
 *
 * Streams chat completions from an OpenAI-compatible endpoint (a NIM, vLLM) with N closed-loop workers for
 * S seconds and reports time to first token, inter-token latency, request latency, output tokens/s and
 * requests/s. A progress line goes to stderr every 2 s. The API key is read from NVIDIA_API_KEY only (a
 * flag would put it in shell history and `ps`) and never printed.
 * Exit 0 when some request completed, 1 when none did, 2 on invalid arguments.
 */
import { readFlags } from "./flags";
import { LoadOptions, runLoad } from "../loadtest/run";
import { formatReport } from "../loadtest/stats";

const USAGE =
  "usage: npm run loadtest -- --endpoint URL --model M --concurrency N --duration S [--json] [--max-tokens N] [--prompt TEXT]";

export class LoadtestUsageError extends Error {}

const OPTIONS = ["--endpoint", "--model", "--concurrency", "--duration", "--max-tokens", "--prompt"];
const DEFAULT_MAX_TOKENS = 256;
const DEFAULT_PROMPT = "Explain in a few paragraphs how a GPU schedules work across its streaming multiprocessors.";

function positiveInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
    throw new LoadtestUsageError(`${flag} ${value}: expected a positive whole number`);
  return Number(value);
}

export function parseLoadtestArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { options: LoadOptions; json: boolean } {
  const { values, json } = readFlags(argv, OPTIONS, LoadtestUsageError);
  for (const required of ["--endpoint", "--model", "--concurrency", "--duration"])
    if (!values.has(required)) throw new LoadtestUsageError(`${required} is required`);
  const endpoint = values.get("--endpoint")!;
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpoint);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:"))
    throw new LoadtestUsageError(`--endpoint ${endpoint}: expected an http:// or https:// URL`);
  const model = values.get("--model")!;
  if (model.trim() === "") throw new LoadtestUsageError(`--model "${model}": expected a model name`);
  const prompt = values.get("--prompt") ?? DEFAULT_PROMPT;
  if (prompt.trim() === "") throw new LoadtestUsageError(`--prompt "${prompt}": expected non-empty text`);
  const apiKey = env.NVIDIA_API_KEY;
  return {
    json,
    options: {
      endpoint,
      model,
      concurrency: positiveInteger("--concurrency", values.get("--concurrency")!),
      durationS: positiveInteger("--duration", values.get("--duration")!),
      maxTokens: values.has("--max-tokens")
        ? positiveInteger("--max-tokens", values.get("--max-tokens")!)
        : DEFAULT_MAX_TOKENS,
      prompt,
      ...(apiKey ? { apiKey } : {}),
    },
  };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseLoadtestArgs>;
  try {
    parsed = parseLoadtestArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof LoadtestUsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const report = await runLoad(parsed.options, (p) =>
    process.stderr.write(
      `[${p.elapsedS.toFixed(0)} s] ${p.completed} completed, ${p.failed} failed, ${p.inFlight} in flight, ${p.outputTokens} output tokens\n`,
    ),
  );
  process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.requests.completed > 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
