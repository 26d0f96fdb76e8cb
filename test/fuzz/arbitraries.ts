/**
 * Generators of hostile values. A value is written to JSON text by `jsonText`, which also
 * writes what `JSON.stringify` cannot: numbers out of range (`1e400`, `-0`), broken tokens
 * (`NaN`, `01`, `0x10`), and objects with repeated or prototype keys (`__proto__`), kept as
 * lists of entries so nothing is lost or polluted on the way.
 */
import fc from "fast-check";
import { T0 } from "../support/db.ts";

/** A token written into the JSON text as is. */
export class Raw {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return this.text.length > 200 ? `${this.text.slice(0, 200)}…(${this.text.length} chars)` : this.text;
  }
}

/** An object as its entries, in order, repeats allowed. */
export class Entries {
  constructor(readonly entries: [string, unknown][]) {}
  [fc.toStringMethod](): string {
    return `{${this.entries.map(([k, v]) => `${JSON.stringify(k)}:${fc.stringify(v)}`).join(",")}}`;
  }
}

/** JSON text of a generated value (possibly not valid JSON, on purpose). */
export function jsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Entries) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") return jsonText(new Entries(Object.entries(value)));
  return JSON.stringify(value) ?? "null";
}

export const SQL_FRAGMENTS = [
  "' OR 1=1 --", "'; DROP TABLE cron_jobs; --", "\" OR \"\"=\"", "1; DELETE FROM users", "' UNION SELECT * FROM users --",
  "Robert'); DROP TABLE users;--", "%", "_", "%_%", "\\", "NULL", "$1", "?", ":id", "@id", "1' AND sleep(5) --", "*/ SELECT 1 /*",
];
export const HTML_FRAGMENTS = [
  "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg/onload=alert(1)>", "&lt;b&gt;", "<!--", "]]>",
  "javascript:alert(1)", "</script><script>", "<iframe src=//evil>",
];
export const PROTO_KEYS = ["__proto__", "constructor", "prototype", "__defineGetter__", "hasOwnProperty", "toString", "valueOf", "then"];
export const BAD_CRON = [
  "* * *", "61 * * * *", "0 0 30 2 *", "@reboot", "* * * * * * * *", "0 0 * * 8", "*/0 * * * *", "1-0 * * * *", "L W #",
  "0 0 31 4 *", "* * * * * 1970", "-1 * * * *", "1e3 * * * *", "∗ * * * *", "0 0 29 2 * 2027", "",
];
export const GOOD_CRON = ["*/5 * * * *", "0 3 * * *", "30 2 * * 0", "0 0 1 1 *", "0 0 29 2 *"];
export const BAD_ZONES = [
  "Mars/Olympus", "UTC+25", "../../etc/passwd", "Europe/", "", " ", "GMT+99", "America/New York", "utc\u0000", "Europe/Berlin ",
  "EST5EDT,M3.2.0,M11.1.0", "+14:00", "Z", "Local",
];
export const GOOD_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham"];
const NUMBER_TOKENS = [
  "1e308", "-1e308", "1e400", "-1e400", "-0", "-0.0", "9007199254740993", "-9007199254740993", "1.5", "-1", "0", "1e-400",
  "0.1e1", "1E2", "4.9e-324", "1.7976931348623157e308", "123456789012345678901234567890",
];
const BROKEN_TOKENS = ["NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1.", "undefined", "'x'", "}", "]", "[", "{", ",", ""];
const DATE_STRINGS = [
  "2026-02-30T00:00:00Z", "2026-01-05T12:00:00", "2026-01-05", "+275760-09-13T00:00:00Z", "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999999+14:00", "2026-01-05T25:00:00Z", "2026-13-01T00:00:00Z", "yesterday", "1767614400000",
  "2026-01-05T12:00:00+24:00", "Mon, 05 Jan 2026 12:00:00 GMT",
];

/** Strings of every sort: ASCII, any code point, lone surrogates, the lists above, huge ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom("\ud800", "\udfff", "a\ud83d", "\u0000", "\u202e", "\ufeff", " ", "\t\n", "é", "😀".repeat(101)) },
  { weight: 4, arbitrary: fc.constantFrom(...SQL_FRAGMENTS, ...HTML_FRAGMENTS, ...PROTO_KEYS, ...BAD_CRON, ...BAD_ZONES, ...DATE_STRINGS, ...NUMBER_TOKENS, ...BROKEN_TOKENS) },
  { weight: 1, arbitrary: fc.integer({ min: 201, max: 300_000 }).map((n) => "x".repeat(n)) },
);

/** Numbers JSON can and cannot carry, written as raw tokens. */
export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NUMBER_TOKENS).map((t) => new Raw(t)),
  fc.double().map((d) => new Raw(Object.is(d, -0) ? "-0" : String(d))), // NaN and Infinity: broken JSON on purpose
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => new Raw(n.toString())),
  fc.constantFrom(-1, 0, 0.5, 1.5, -2.5, 2 ** 31, 2 ** 32 + 1, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER),
);

/** A value nested `depth` levels deep, written without recursion (so the generator itself cannot overflow). */
export const deepValue: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean()).map(([depth, arrays]) =>
  new Raw(arrays ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`));

/** Any value: scalars from above, broken tokens, nested arrays and objects with hostile keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null, new Raw("true "), new Raw("nul"), new Raw("True")) },
    { weight: 1, arbitrary: fc.constantFrom(...BROKEN_TOKENS).map((t) => new Raw(t)) },
    { weight: 1, arbitrary: deepValue },
    { weight: 2, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), hostileString), tie("value")), { maxLength: 4 }).map((e) => new Entries(e)) },
  ),
})).value;

const isoAround = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: -400 * 86_400_000, max: 400 * 86_400_000 }).map((d) => new Date(T0 + d).toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "0000-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00") },
);

/** Values a field of the API accepts (so that some generated inputs pass and reach the database). */
export const good = {
  name: fc.constantFrom("noop", "fuzz-job", "once", "every-five", " spaced "),
  jobType: fc.constantFrom("noop", "invalidate_reset_password_code", "invalidate_pending_registration"),
  id: fc.integer({ min: 1, max: 12 }),
  userId: fc.constantFrom(1, 2, null),
  instant: isoAround,
  intervalMinutes: fc.integer({ min: 1, max: 5_256_000 }),
  cron: fc.constantFrom(...GOOD_CRON),
  timezone: fc.constantFrom(...GOOD_ZONES),
  seconds: fc.integer({ min: 1, max: 86_400 }),
  attempts: fc.integer({ min: 1, max: 1000 }),
  limit: fc.integer({ min: 1, max: 500 }),
  email: fc.constantFrom("pending@example.com", "active@example.com", "new@example.com", " MiXeD@Example.COM "),
  password: fc.string({ minLength: 8, maxLength: 40 }),
  boolean: fc.boolean(),
};

const extraKey = fc.oneof(fc.constantFrom(...PROTO_KEYS), hostileString, fc.constantFrom("lockedBy", "attempts", "nextRunAt", "createdAt"));

/**
 * An input that passes with up to three changes (none in about a fifth of the cases, so
 * requests also pass and change the database): a field set to a hostile value
 * (`hostileFor(field)`), a field removed, or an unknown or prototype key added.
 */
export function mutated(valid: fc.Arbitrary<Record<string, unknown>>, fields: string[], hostileFor: (field: string) => fc.Arbitrary<unknown> = () => hostileValue) {
  const field = fields.length > 0 ? fc.constantFrom(...fields) : extraKey;
  const change = fc.oneof(
    { weight: 5, arbitrary: field.chain((key) => fc.tuple(fc.constant("set" as const), fc.constant(key), hostileFor(key))) },
    { weight: 2, arbitrary: fc.tuple(fc.constant("delete" as const), field, fc.constant(null)) },
    { weight: 1, arbitrary: fc.tuple(fc.constant("set" as const), extraKey, hostileValue) },
  );
  return fc.tuple(valid, fc.array(change, { maxLength: 3 })).map(([input, changes]) => {
    const entries = new Map<string, unknown>(Object.entries(input));
    const extra: [string, unknown][] = [];
    for (const [op, key, value] of changes) {
      if (op === "delete") entries.delete(key);
      else if (fields.includes(key)) entries.set(key, value);
      else extra.push([key, value]);
    }
    return new Entries([...entries, ...extra]);
  });
}

/** Bytes that are not UTF-8: stray continuation bytes, overlong forms, encoded surrogates, 0xFF. */
export const invalidUtf8 = fc.constantFrom([0x80], [0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe, 0xff], [0xc3]);

/** `text` as UTF-8 with invalid bytes spliced in at a generated place. */
export function withInvalidUtf8(text: fc.Arbitrary<string>): fc.Arbitrary<Uint8Array<ArrayBuffer>> {
  return fc.tuple(text, invalidUtf8, fc.nat()).map(([t, bad, at]) => {
    const bytes = new TextEncoder().encode(t);
    const cut = bytes.length === 0 ? 0 : at % (bytes.length + 1);
    return new Uint8Array([...bytes.subarray(0, cut), ...bad, ...bytes.subarray(cut)]);
  });
}

export const CONTENT_TYPES = [
  undefined, "application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "text/plain", "text/html",
  "multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/octet-stream",
  "application/json, text/plain", "*/*", "garbage", "",
];
