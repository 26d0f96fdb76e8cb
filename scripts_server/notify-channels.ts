import { errorMessage } from "../src/errors.ts";
import type { NotifyEvent } from "../src/watchdog/notify-state.ts";
import { runCommand } from "./run-command.ts";

export interface Channels {
  /** Receives a JSON POST `{ text, events }` (chat webhooks read `text`). */
  webhook?: string | undefined;
  /** A shell command that receives the message on stdin. */
  command?: string | undefined;
}

const WEBHOOK_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 20_000;

/**
 * POSTs the message; throws unless the receiver answers 2xx in time. A redirect is not followed
 * (a 307 would re-post the alert to wherever it points, a 302 turn it into a GET that loses it):
 * it is a failed delivery naming its `Location`, retried on the next run.
 */
export async function sendWebhook(url: string, text: string, events: NotifyEvent[]): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text, events }),
      redirect: "manual",
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error(`webhook ${redact(url)}: ${errorMessage(err)}`, { cause: err });
  }
  await response.body?.cancel();
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("location");
    throw new Error(`webhook ${redact(url)} answered ${response.status}, a redirect${location ? ` to ${location.slice(0, 300)}` : " without a Location"}: not followed (give --webhook the final URL)`);
  }
  if (!response.ok) throw new Error(`webhook ${redact(url)} answered ${response.status}`);
}

/** Runs the command with the message on stdin; throws unless it exits 0 in time. */
export async function sendCommand(command: string, text: string, env: Record<string, string | undefined>): Promise<void> {
  const result = await runCommand(command, { cwd: process.cwd(), env, timeoutMs: COMMAND_TIMEOUT_MS, killGraceMs: 2_000, outputLimit: 2_000, input: `${text}\n` });
  if (result.spawnError) throw new Error(`command could not start: ${result.spawnError}`);
  if (result.timedOut) throw new Error(`command timed out after ${COMMAND_TIMEOUT_MS / 1000} s`);
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new Error(`command ${how}${result.output.trim() ? `: ${result.output.trim().split("\n").slice(-3).join(" / ")}` : ""}`);
  }
}

/** A heartbeat for an outside monitor (healthchecks.io and the like): a GET that must answer 2xx. */
export async function sendPing(url: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`ping ${redact(url)}: ${errorMessage(err)}`, { cause: err });
  }
  await response.body?.cancel();
  if (!response.ok) throw new Error(`ping ${redact(url)} answered ${response.status}`);
}

/** Webhook URLs often carry a secret in the path: messages show only the origin. */
function redact(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return "(bad URL)";
  }
}
