import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config.ts";
import { AppError } from "./errors.ts";

/**
 * The secrets the HTTP server checks. `adminToken` and `viewerToken` are either one plain token
 * or a list of named ones, `name:token,name:token` (see `parseTokens`).
 */
export interface Secrets {
  cronSecret: string;
  adminToken: string;
  viewerToken?: string;
}

/** What a token may do: an admin reads and changes, a viewer only reads. */
export type Role = "admin" | "viewer";

/** One accepted bearer token and the name its holder acts under. */
export interface NamedToken {
  name: string;
  token: string;
  role: Role;
}

/** All the secrets of a host: the server's and the key of the `http` jobs' signatures (`JOB_SIGNING_SECRET`). */
export interface HostSecrets extends Secrets {
  jobSigningSecret: string;
}

/** A secrets file written before `http` jobs existed has no `jobSigningSecret`. */
type Stored = Secrets & { jobSigningSecret?: string };

const FILE = "secrets.json";
const MIN_TOKEN = 16;
const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export function secretsPath(dataDir: string): string {
  return path.join(dataDir, FILE);
}

/**
 * Parses `ADMIN_TOKEN`/`VIEWER_TOKEN`: a value without `:` is one token named `defaultName`
 * (`admin`, `viewer`); otherwise it is a comma-separated list of `name:token`. Throws an
 * `AppError("INVALID_INPUT")` naming `variable` and the entry at fault.
 */
export function parseTokens(value: string, variable: string, role: Role): NamedToken[] {
  const bad = (why: string) => new AppError("INVALID_INPUT", `bad configuration: ${variable} ${why}`);
  const check = (token: string, where: string) => {
    if (token.length < MIN_TOKEN) throw bad(`${where}is shorter than ${MIN_TOKEN} characters`);
    if (/[\s,]/.test(token)) throw bad(`${where}contains a space or a comma`);
  };
  if (!value.includes(":")) {
    check(value, "");
    return [{ name: role, token: value, role }];
  }
  const entries = value.split(",").map((entry, i) => {
    const at = entry.indexOf(":");
    const name = entry.slice(0, at).trim();
    const token = entry.slice(at + 1).trim();
    if (at < 0 || !NAME.test(name)) throw bad(`entry ${i + 1} must be name:token (a name of letters, digits, _ . @ -)`);
    check(token, `token "${name}" `);
    return { name, token, role };
  });
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name)) throw bad(`names "${name}" twice`);
    seen.add(name);
  }
  return entries;
}

/** The token a client sends for a configured value: the plain token, or the first named one. */
export function clientToken(value: string, variable: string): string {
  return parseTokens(value, variable, "admin")[0]!.token;
}

/** Every token a server accepts, with its name and role; looked up in constant time. */
export class TokenTable {
  private constructor(readonly entries: readonly NamedToken[]) {}

  /** Throws (naming the variable) when a value is malformed or a token or name is used twice. */
  static from(secrets: Pick<Secrets, "adminToken" | "viewerToken">): TokenTable {
    const admins = parseTokens(secrets.adminToken, "ADMIN_TOKEN", "admin");
    const viewers = secrets.viewerToken === undefined ? [] : parseTokens(secrets.viewerToken, "VIEWER_TOKEN", "viewer");
    for (const viewer of viewers) {
      if (admins.some((a) => a.name === viewer.name)) throw new AppError("INVALID_INPUT", `bad configuration: VIEWER_TOKEN names "${viewer.name}", which ADMIN_TOKEN names too`);
    }
    const all = [...admins, ...viewers];
    if (new Set(all.map((e) => e.token)).size !== all.length) throw new AppError("INVALID_INPUT", "bad configuration: the same token is given twice in ADMIN_TOKEN/VIEWER_TOKEN");
    return new TokenTable(all);
  }

  /** The entry whose token was presented, if any: every entry is compared, so timing tells nothing. */
  identify(presented: string | undefined): NamedToken | undefined {
    if (presented === undefined) return undefined;
    let found: NamedToken | undefined;
    for (const entry of this.entries) {
      if (secretMatches(presented, entry.token) && found === undefined) found = entry;
    }
    return found;
  }
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
