import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config.ts";
import { AppError } from "./errors.ts";
import type { Secrets } from "./tokens.ts";

export { bearerToken, clientToken, parseTokens, secretMatches, TokenTable, type NamedToken, type Role, type Secrets } from "./tokens.ts";

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

/**
 * Opens `file` for reading only when it can be trusted: not a symbolic link (opened with
 * O_NOFOLLOW, so no swap between check and read), owned by this process's user, and not
 * writable by the group or others. Anything else another user could have planted.
 */
function readTrusted(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new AppError("INVALID_INPUT", `refusing ${file}: it is a symbolic link (put the file itself there)`, { cause: err });
    throw new AppError("INVALID_INPUT", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stat = fs.fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile()) throw new AppError("INVALID_INPUT", `refusing ${file}: it is not a regular file`);
    if (uid !== undefined && stat.uid !== uid) {
      throw new AppError("INVALID_INPUT", `refusing ${file}: it is owned by uid ${stat.uid}, not by this user (uid ${uid})`);
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new AppError("INVALID_INPUT", `refusing ${file}: it is writable by ${stat.mode & 0o002 ? "other users" : "its group"} (chmod 600 it if you wrote it)`);
    }
    return fs.readFileSync(fd, "utf8");
  } finally {
    fs.closeSync(fd);
  }
}

function readFile(file: string): Stored | undefined {
  const text = readTrusted(file);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<HostSecrets>;
    if (typeof parsed.cronSecret === "string" && typeof parsed.adminToken === "string"
      && (parsed.jobSigningSecret === undefined || typeof parsed.jobSigningSecret === "string")) return parsed as Stored;
  } catch {}
  throw new AppError("INVALID_INPUT", `${file} is not a valid secrets file (delete it to generate new secrets)`);
}

/** Where the secrets come from, for the start-up line: the environment, or the generated file. */
export function secretsSource(config: Config): string {
  if (config.cronSecret && config.adminToken && config.jobSigningSecret) return "environment";
  return secretsPath(config.dataDir);
}

/**
 * The secrets file of this host. With `generate`, a missing file is created once (mode 0600,
 * its folder 0700; two servers starting together agree on one file because it is created
 * exclusively), and a file from before `http` jobs gets its signing secret.
 */
function storedSecrets(config: Config, generate: boolean): Stored | undefined {
  const file = secretsPath(config.dataDir);
  const stored = readFile(file);
  if (!stored && generate) {
    const fresh: HostSecrets = { cronSecret: randomSecret(), adminToken: randomSecret(), jobSigningSecret: randomSecret() };
    try {
      fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new AppError("INVALID_INPUT", `cannot write ${file}: ${(err as Error).message} (make the data directory writable, or set CRON_SECRET, ADMIN_TOKEN and JOB_SIGNING_SECRET)`, { cause: err });
      }
    }
    return readFile(file);
  }
  if (stored && stored.jobSigningSecret === undefined && generate) {
    addSigningSecret(file, stored);
    return readFile(file);
  }
  return stored;
}

/**
 * The secrets the server checks: those configured, else the ones `app serve` generated into
 * the data directory (created with `generate` when missing).
 */
export function resolveSecrets(config: Config, { generate }: { generate: boolean }): Secrets {
  const viewer = config.viewerToken === undefined ? {} : { viewerToken: config.viewerToken };
  if (config.cronSecret && config.adminToken) return { cronSecret: config.cronSecret, adminToken: config.adminToken, ...viewer };
  const stored = storedSecrets(config, generate);
  const cronSecret = config.cronSecret ?? stored?.cronSecret;
  const adminToken = config.adminToken ?? stored?.adminToken;
  if (!cronSecret || !adminToken) {
    const missing = !cronSecret ? "CRON_SECRET" : "ADMIN_TOKEN";
    throw new AppError("INVALID_INPUT", `${missing} is not set and ${secretsPath(config.dataDir)} does not exist (start \`app serve\` once on this host, or set ${missing})`);
  }
  return { cronSecret, adminToken, ...viewer };
}

/**
 * The key of the `http` jobs' signatures: `JOB_SIGNING_SECRET`, else this host's secrets file
 * (created or completed when `generate`). When it cannot be had (a read-only data directory,
 * the server's secrets given in the environment), an Error saying so: the server still
 * starts, and each `http` run fails with that message.
 */
export function jobSigningSecret(config: Config, { generate = true }: { generate?: boolean } = {}): string | Error {
  if (config.jobSigningSecret) return config.jobSigningSecret;
  const file = secretsPath(config.dataDir);
  try {
    const stored = storedSecrets(config, generate);
    if (stored) return stored.jobSigningSecret ?? derivedSigningSecret(stored);
    return new Error(`JOB_SIGNING_SECRET is not set and ${file} does not exist (start \`app serve\` once on this host, or set JOB_SIGNING_SECRET)`);
  } catch (err) {
    const reason = err instanceof AppError ? err.message : `${file}: ${(err as Error).message}`;
    return new Error(`JOB_SIGNING_SECRET is not set and cannot be generated (${reason}); set JOB_SIGNING_SECRET`);
  }
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

// Built-ins only (no node:crypto): `app cron-runner` loads this file every minute. Hex, not
// base64url: a token starting with "-" would be read as a flag in `app jobs --admin-token TOKEN`.
function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}
