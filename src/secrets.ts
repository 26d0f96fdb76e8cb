import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config.ts";
import { AppError } from "./errors.ts";

/** The secrets the HTTP server checks. */
export interface Secrets {
  cronSecret: string;
  adminToken: string;
}

/** All the secrets of a host: the server's and the key of the `http` jobs' signatures (`JOB_SIGNING_SECRET`). */
export interface HostSecrets extends Secrets {
  jobSigningSecret: string;
}

/** A secrets file written before `http` jobs existed has no `jobSigningSecret`. */
type Stored = Secrets & { jobSigningSecret?: string };

const FILE = "secrets.json";

export function secretsPath(dataDir: string): string {
  return path.join(dataDir, FILE);
}

function readFile(file: string): Stored | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AppError("INVALID_INPUT", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const parsed = JSON.parse(text) as Partial<HostSecrets>;
    if (typeof parsed.cronSecret === "string" && typeof parsed.adminToken === "string"
      && (parsed.jobSigningSecret === undefined || typeof parsed.jobSigningSecret === "string")) return parsed as Stored;
  } catch {}
  throw new AppError("INVALID_INPUT", `${file} is not a valid secrets file (delete it to generate new secrets)`);
}

/**
 * The secrets of this host: those configured, else the ones `app serve` generated into the
 * data directory. With `generate`, a missing file is created once (mode 0600); two servers
 * starting together agree on one file because it is created exclusively.
 */
export function resolveSecrets(config: Config, { generate }: { generate: boolean }): HostSecrets {
  if (config.cronSecret && config.adminToken && config.jobSigningSecret) {
    return { cronSecret: config.cronSecret, adminToken: config.adminToken, jobSigningSecret: config.jobSigningSecret };
  }
  const file = secretsPath(config.dataDir);
  let stored = readFile(file);
  if (!stored && generate) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const fresh: HostSecrets = { cronSecret: randomSecret(), adminToken: randomSecret(), jobSigningSecret: randomSecret() };
    try {
      fs.writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    stored = readFile(file);
  } else if (stored && stored.jobSigningSecret === undefined && generate) {
    addSigningSecret(file, stored);
    stored = readFile(file);
  }
  const cronSecret = config.cronSecret ?? stored?.cronSecret;
  const adminToken = config.adminToken ?? stored?.adminToken;
  const jobSigningSecret = config.jobSigningSecret ?? (stored && (stored.jobSigningSecret ?? derivedSigningSecret(stored)));
  if (!cronSecret || !adminToken || !jobSigningSecret) {
    const missing = !cronSecret ? "CRON_SECRET" : !adminToken ? "ADMIN_TOKEN" : "JOB_SIGNING_SECRET";
    throw new AppError("INVALID_INPUT", `${missing} is not set and ${file} does not exist (start \`app serve\` once on this host, or set ${missing})`);
  }
  return { cronSecret, adminToken, jobSigningSecret };
}

/**
 * The signing secret of a file written before it had one: derived from the file's own secrets,
 * so every process on the host (and two servers upgrading at once) computes the same one, and
 * one-way, so the app that holds it learns nothing of the others.
 */
function derivedSigningSecret(stored: Stored): string {
  return new Bun.CryptoHasher("sha256", stored.adminToken).update(`cronjobs job signing secret\0${stored.cronSecret}`).digest("base64url");
}

/** Writes the derived signing secret into an older secrets file (whole file replaced at once). */
function addSigningSecret(file: string, stored: Stored): void {
  const next: HostSecrets = { ...stored, jobSigningSecret: derivedSigningSecret(stored) };
  const temp = `${file}.${randomSecret()}.tmp`;
  try {
    fs.writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new AppError("INVALID_INPUT", `cannot add the job signing secret to ${file}: ${(err as Error).message} (set JOB_SIGNING_SECRET instead)`, { cause: err });
  }
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
