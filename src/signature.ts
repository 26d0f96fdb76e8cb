/**
 * The signature of an `http` job's request (SPEC §3):
 *
 *   X-Cronjobs-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
 *
 * keyed with `JOB_SIGNING_SECRET`. Web Crypto only, no server code and no Node built-ins, so the
 * receiving side can verify it from Node 20, Bun, Deno, a worker or a bundle.
 */

/** The request header that carries the signature. */
export const SIGNATURE_HEADER = "X-Cronjobs-Signature";

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** The bytes signed: `"<t>."` followed by the body, as sent. */
function signedBytes(timestamp: number, body: string | Uint8Array): Uint8Array {
  const prefix = encoder.encode(`${timestamp}.`);
  const rest = typeof body === "string" ? encoder.encode(body) : body;
  const bytes = new Uint8Array(prefix.length + rest.length);
  bytes.set(prefix, 0);
  bytes.set(rest, prefix.length);
  return bytes;
}

const toHex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

function fromHex(hex: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Signs requests with one secret: `sign(t, body)` → the header's value. The key is imported once,
 * so signing thousands of requests a second costs one HMAC each.
 */
export function createSigner(secret: string): (timestamp: number, body: string | Uint8Array) => Promise<string> {
  const key = hmacKey(secret, "sign");
  return async (timestamp, body) => {
    const mac = await crypto.subtle.sign("HMAC", await key, signedBytes(timestamp, body) as BufferSource);
    return `t=${timestamp},v1=${toHex(mac)}`;
  };
}

export interface VerifySignatureOptions {
  /** The `JOB_SIGNING_SECRET` of the server that sent the request. */
  secret: string;
  /** The `X-Cronjobs-Signature` header as received (null/undefined when absent). */
  header: string | null | undefined;
  /** The raw request body, exactly as received (not parsed and re-serialised). */
  body: string | Uint8Array;
  /** How far the signature's time may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** Now, in milliseconds since the epoch (default `Date.now()`). */
  now?: number;
}

/**
 * Whether a request comes from the scheduler holding `secret`: its signature matches the body
 * (compared in constant time by Web Crypto) and was made within `toleranceSeconds` of now, so a
 * recorded request replayed later, or one stamped in the future, is refused.
 *
 *   const ok = await verifySignature({ secret, header: req.headers.get("x-cronjobs-signature"), body: await req.text() });
 */
export async function verifySignature({ secret, header, body, toleranceSeconds = 300, now = Date.now() }: VerifySignatureOptions): Promise<boolean> {
  if (!secret || !header) return false;
  let timestamp: number | undefined;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === "v1") {
      const bytes = fromHex(value);
      if (bytes) signatures.push(bytes);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (!(toleranceSeconds >= 0) || Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const key = await hmacKey(secret, "verify");
  const data = signedBytes(timestamp, body);
  let ok = false;
  // Every `v1` given is checked, so the time taken does not say which one matched.
  for (const signature of signatures) {
    if (await crypto.subtle.verify("HMAC", key, signature as BufferSource, data as BufferSource)) ok = true;
  }
  return ok;
}
