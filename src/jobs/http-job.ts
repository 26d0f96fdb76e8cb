import { z } from "zod";
import { errorMessage } from "../errors.ts";
import { createSigner, SIGNATURE_HEADER } from "../signature.ts";
import { VERSION } from "../version.ts";
import type { CronJob, JobContext } from "./cron-job.ts";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** How much of the answer becomes the run's output (SPEC §3). */
export const HTTP_OUTPUT_BYTES = 8 * 1024;
/** How much of the answer a failure's error quotes. */
const ERROR_QUOTE_CHARS = 200;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the job sets itself: the signature's, and those that describe the message. */
const RESERVED_HEADER = /^(x-cronjobs-.*|host|content-length|transfer-encoding|connection)$/i;

export const httpPayloadSchema = z.strictObject({
  /** Where the request goes: http or https only. */
  url: z.string("must be a URL").max(8192, "must be at most 8192 characters")
    .pipe(z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })),
  method: z.enum(HTTP_METHODS, `must be one of ${HTTP_METHODS.join(", ")} (default POST)`).optional(),
  headers: z.record(
    z.string().regex(HEADER_NAME, "must be a header name").refine((name) => !RESERVED_HEADER.test(name), "is set by the job itself"),
    z.string("must be text").regex(/^[^\r\n\0]*$/, "must be one line of text"),
  ).optional(),
  /** Sent as is when a string; any other JSON value is sent as JSON (`content-type: application/json`). */
  body: z.json().optional(),
}).superRefine((payload, ctx) => {
  if ((payload.method ?? "POST") === "GET" && payload.body !== undefined && payload.body !== null) {
    ctx.addIssue({ code: "custom", path: ["body"], message: "a GET request has no body" });
  }
});

export type HttpPayload = z.output<typeof httpPayloadSchema>;

export interface HttpJobOptions {
  /** `JOB_SIGNING_SECRET`: the key of every request's `X-Cronjobs-Signature`; an Error (why there is none) fails every run with it. */
  signingSecret: string | Error;
  /** `HTTP_JOB_ALLOW`: the only hosts it may call (`api.example.com`, `*.example.com`); undefined: any. */
  allowHosts?: readonly string[] | undefined;
}

/**
 * Calls the web application (SPEC §3): any app, in any language, runs its own work on this
 * scheduler. The request is signed so the app can tell it from a stranger's, the job's signal
 * aborts it, redirects are not followed, and the start of the answer is the run's output.
 */
export class HttpJob implements CronJob<HttpPayload> {
  static readonly TYPE = "http";
  readonly type = HttpJob.TYPE;
  readonly description = "Calls a URL of your application (signed with JOB_SIGNING_SECRET); a 2xx answer is a success.";
  readonly payloadSchema = httpPayloadSchema;
  private readonly sign: ReturnType<typeof createSigner> | Error;
  private readonly allowHosts: readonly string[] | undefined;

  constructor({ signingSecret, allowHosts }: HttpJobOptions) {
    this.sign = signingSecret instanceof Error ? signingSecret : createSigner(signingSecret);
    this.allowHosts = allowHosts?.map((host) => host.toLowerCase());
  }

  async run(ctx: JobContext<HttpPayload>): Promise<void> {
    const { job, payload, clock, signal } = ctx;
    if (this.sign instanceof Error) throw this.sign;
    const url = new URL(payload.url);
    this.checkAllowed(url);
    const method = payload.method ?? "POST";
    const json = payload.body !== undefined && payload.body !== null && typeof payload.body !== "string";
    const body = payload.body === undefined || payload.body === null ? "" : json ? JSON.stringify(payload.body) : (payload.body as string);
    const headers = new Headers(payload.headers);
    if (!headers.has("user-agent")) headers.set("user-agent", `cronjobs/${VERSION}`);
    if (json && !headers.has("content-type")) headers.set("content-type", "application/json");
    headers.set("x-cronjobs-job-id", String(job.id));
    headers.set("x-cronjobs-run-id", job.lockedBy ?? "");
    headers.set("x-cronjobs-attempt", String(job.attempts));
    if (job.nextRunAt) headers.set("x-cronjobs-scheduled-for", job.nextRunAt.toISOString());
    headers.set(SIGNATURE_HEADER, await this.sign(Math.floor(clock.now() / 1000), body));

    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: method === "GET" ? undefined : body, redirect: "manual", signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new Error(`${method} ${url.origin}${url.pathname}: ${errorMessage(err)}`, { cause: err });
    }
    const answer = await readStart(response, signal);
    if (answer.text !== "") ctx.log(answer.text);
    if (response.status >= 200 && response.status < 300) return;
    if (response.status >= 300 && response.status < 400) {
      throw new Error(`HTTP ${response.status}: redirect to ${response.headers.get("location") ?? "(no Location header)"} not followed`);
    }
    const quote = answer.text.replace(/\s+/g, " ").trim().slice(0, ERROR_QUOTE_CHARS);
    throw new Error(`HTTP ${response.status}: ${quote || "(empty body)"}`);
  }

  private checkAllowed(url: URL): void {
    if (!this.allowHosts) return;
    const hostname = url.hostname.toLowerCase();
    const host = url.host.toLowerCase();
    const allowed = this.allowHosts.some((entry) => entry === hostname || entry === host
      || (entry.startsWith("*.") && hostname.endsWith(entry.slice(1))));
    if (!allowed) throw new Error(`host ${hostname} is not allowed by HTTP_JOB_ALLOW (${this.allowHosts.join(", ")})`);
  }
}

/**
 * The first 8 KiB of the body as text; beyond them the rest is read and counted, so the run
 * ends when the answer does, and replaced by `… [N bytes truncated]`.
 */
async function readStart(response: Response, signal: AbortSignal): Promise<{ text: string }> {
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  if (length <= HTTP_OUTPUT_BYTES) return { text: decode(await bytesOf(response, signal)) };
  const kept = new Uint8Array(HTTP_OUTPUT_BYTES);
  let keptBytes = 0;
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (keptBytes < HTTP_OUTPUT_BYTES) {
          const part = value.subarray(0, HTTP_OUTPUT_BYTES - keptBytes);
          kept.set(part, keptBytes);
          keptBytes += part.length;
        }
        total += value.length;
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new Error(`reading the answer: ${errorMessage(err)}`, { cause: err });
    } finally {
      reader.releaseLock();
    }
  }
  const text = decode(kept.subarray(0, keptBytes));
  return { text: total > keptBytes ? `${text}… [${total - keptBytes} bytes truncated]` : text };
}

async function bytesOf(response: Response, signal: AbortSignal): Promise<Uint8Array> {
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new Error(`reading the answer: ${errorMessage(err)}`, { cause: err });
  }
}

/** UTF-8 text of the bytes; a character cut at the end is dropped, an invalid byte becomes U+FFFD. */
function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes, { stream: true });
}
