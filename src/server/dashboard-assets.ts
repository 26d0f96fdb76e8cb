/**
 * The dashboard's files, bundled into the server at build time (see `bundle-macro.ts`), served
 * from memory: brotli or gzip as the browser accepts (compressed once, on first use), validated
 * by ETag, hashed assets cached for good, the page itself revalidated on every load.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { bundleDashboard } from "../dashboard/bundle-macro.ts" with { type: "macro" };

type Encoding = "br" | "gzip" | "identity";

interface Asset {
  type: string;
  body: Uint8Array;
  etag: string;
  /** Hashed names never change content: cache them for a year. */
  immutable: boolean;
  encoded: Partial<Record<Encoding, Promise<Uint8Array>>>;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * The page runs only its own scripts and talks only to its own server. (The tests status
 * page has a route and a policy of its own: `/tests-page`.)
 */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
};

const COMMON_HEADERS = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };

const assets = new Map<string, Asset>(bundleDashboard().map((file) => {
  const body = new TextEncoder().encode(file.text);
  const etag = `W/"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"`;
  return [file.path, { type: file.type, body, etag, immutable: file.path !== "/", encoded: { identity: Promise.resolve(body) } }];
}));

/** The encoding to answer with: brotli, else gzip, else none, as `accept-encoding` allows. */
export function pickEncoding(header: string | null): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name) accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const allows = (name: string) => (accepted.get(name) ?? accepted.get("*") ?? 0) > 0;
  return allows("br") ? "br" : allows("gzip") ? "gzip" : "identity";
}

function encode(asset: Asset, encoding: Encoding): Promise<Uint8Array> {
  let encoded = asset.encoded[encoding];
  if (!encoded) {
    encoded = encoding === "br"
      ? brotli(asset.body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: asset.body.length } })
      : gzip(asset.body, { level: 9 });
    asset.encoded[encoding] = encoded;
  }
  return encoded;
}

/** Answers a GET of a dashboard file; undefined when `path` is none of them. */
export async function serveDashboardFile(path: string, request: Request): Promise<Response | undefined> {
  const asset = assets.get(path);
  if (!asset) return undefined;
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    ...(path === "/" ? PAGE_HEADERS : {}),
    "content-type": asset.type,
    etag: asset.etag,
    vary: "accept-encoding",
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
  };
  if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  let encoding = pickEncoding(request.headers.get("accept-encoding"));
  let body = await encode(asset, encoding);
  if (body.length >= asset.body.length) [encoding, body] = ["identity", asset.body];
  if (encoding !== "identity") headers["content-encoding"] = encoding;
  return new Response(body as Uint8Array<ArrayBuffer>, { headers });
}

/** Paths and sizes of the bundled files (for tests and the benchmark). */
export function dashboardFiles(): { path: string; bytes: number }[] {
  return [...assets].map(([path, asset]) => ({ path, bytes: asset.body.length }));
}
