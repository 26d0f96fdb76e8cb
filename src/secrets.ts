import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config.ts";
import { AppError } from "./errors.ts";

export interface Secrets {
  cronSecret: string;
  adminToken: string;
}

const FILE = "secrets.json";

export function secretsPath(dataDir: string): string {
  return path.join(dataDir, FILE);
}

function readFile(file: string): Partial<Secrets> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AppError("INVALID_INPUT", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const parsed = JSON.parse(text) as Partial<Secrets>;
    if (typeof parsed.cronSecret === "string" && typeof parsed.adminToken === "string") return parsed;
  } catch {}
  throw new AppError("INVALID_INPUT", `${file} is not a valid secrets file (delete it to generate new secrets)`);
}

/**
 * The secrets of this host: those configured, else the ones `app serve` generated into the
 * data directory. With `generate`, a missing file is created once (mode 0600); two servers
 * starting together agree on one file because it is created exclusively.
 */
export function resolveSecrets(config: Config, { generate }: { generate: boolean }): Secrets {
  if (config.cronSecret && config.adminToken) return { cronSecret: config.cronSecret, adminToken: config.adminToken };
  const file = secretsPath(config.dataDir);
  let stored = readFile(file);
  if (!stored && generate) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const fresh = { cronSecret: randomSecret(), adminToken: randomSecret() };
    try {
      fs.writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    stored = readFile(file);
  }
  const cronSecret = config.cronSecret ?? stored?.cronSecret;
  const adminToken = config.adminToken ?? stored?.adminToken;
  if (!cronSecret || !adminToken) {
    const missing = !cronSecret ? "CRON_SECRET" : "ADMIN_TOKEN";
    throw new AppError("INVALID_INPUT", `${missing} is not set and ${file} does not exist (start \`app serve\` once on this host, or set ${missing})`);
  }
  return { cronSecret, adminToken };
}

// Built-ins only (no node:crypto): `app cron-runner` loads this file every minute.
function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretMatches(presented: string, expected: string): boolean {
  // Hashing first makes both sides the same length, so neither length nor content leaks.
  const a = new Bun.CryptoHasher("sha256").update(presented).digest();
  const b = new Bun.CryptoHasher("sha256").update(expected).digest();
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** `Authorization: Bearer <token>` → token; anything else → undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? "");
  return match?.[1];
}
