import { request } from 'node:http';
import fc from 'fast-check';
import type { Queryable } from '../../src/adapters/store/db';

/**
 * Shared pieces of the HTTP fuzz tests: a raw HTTP client (any method, any header, any bytes — what `fetch`
 * would refuse to send), the row counts that must not move, and arbitraries for headers and bodies.
 */

export interface RawAnswer {
  status: number;
  text: string;
  contentType: string | undefined;
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Sends exactly these bytes; resolves with the answer (never rejects on a status). */
export function rawRequest(baseUrl: string, req: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: { ...req.headers, 'content-length': String(body.length) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: res.headers['content-type'] }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms: ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end(body);
  });
}

/** The tables a refused request must never write. */
export const GUARDED_TABLES = ['stripe_events', 'sync_settings', 'customers', 'dead_letters', 'contact_links', 'hubspot_installs', 'stripe_objects'] as const;

export async function rowCounts(db: Queryable): Promise<Record<string, number>> {
  const selects = GUARDED_TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ');
  const { rows } = await db.query<Record<string, string>>(`SELECT ${selects}`);
  return Object.fromEntries(GUARDED_TABLES.map((t) => [t, Number(rows[0][t])]));
}

/** An error answer must be our JSON shape; anything else is a failure of the fuzz property. */
export function expectNoServerError(a: RawAnswer, what: string): void {
  if (a.status >= 500) throw new Error(`${what} answered ${a.status}: ${a.text.slice(0, 300)}`);
  if (a.status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(a.text);
    } catch {
      throw new Error(`${what} answered ${a.status} with a non-JSON body: ${a.text.slice(0, 200)}`);
    }
    const e = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof e?.code !== 'string' || typeof e.message !== 'string') {
      throw new Error(`${what} answered ${a.status} without {error:{code,message}}: ${a.text.slice(0, 200)}`);
    }
  }
}

// ---------- arbitraries ----------

/** Header values node will send (visible ASCII and spaces), sometimes empty, sometimes long. */
export const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 200, maxLength: 2000 }),
  fc.constant(''),
).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

/**
 * Inputs that still answer 5xx because of code outside this suite's files (found by these tests, reported with
 * the fix). Each switch keeps the suites green meanwhile; set it to false once fixed and the inputs are fuzzed too.
 */
export const KNOWN_5XX = {
  /**
   * A body that fails to decompress (Content-Encoding gzip/deflate/br): body-parser throws a 400 error without
   * `type`, which `bodyParserError` (src/http/errors.ts) does not recognise → POST /webhooks/stripe answers 500.
   */
  webhookUndecodableBody: false,
  /**
   * The app API's error handler (src/http/app-api/router.ts) maps only parse and size errors: an unsupported
   * charset or Content-Encoding (415 from body-parser) or an undecodable body answers 500.
   */
  appApiBodyParserErrors: false,
  /**
   * A signed PUT /api/app/v1/settings whose body is not parsed as JSON (no or another Content-Type) reaches
   * `putSettings` (src/http/app-api/settings.ts) with `req.body` undefined, which reads `.settings` of it: 500.
   */
  appApiSettingsWithoutJsonBody: false,
  /**
   * Signed OAuth calls on a backend without HubSpot OAuth (src/http/app-api/hubspot-connection.ts): POST
   * /hubspot/connect and GET /hubspot/authorize-url answer 503 not_connected. Tolerated (exactly these) while the
   * flag is on: "this backend has no OAuth app" is a configuration state, not a fault.
   */
  appApiOAuthUpstreamAnswers: true,
  /** An integer `created` beyond bigint (e.g. 1e21) passes src/ingest/verify.ts and fails the inbox insert: 503. */
  webhookHugeCreated: false,
  /** A NUL character or a lone surrogate anywhere in a signed event cannot be stored as jsonb: the webhook answers 503. */
  webhookNulOrLoneSurrogate: false,
};

const SUPPORTED_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  'application/json;;;',
];
const UNSUPPORTED_CHARSETS = ['application/json; charset=latin1', 'application/json; charset=bogus', 'application/json; charset=utf-7'];

/** Content-Type headers, with charsets body-parser refuses (415). */
export const contentType = fc.constantFrom(...SUPPORTED_TYPES, ...UNSUPPORTED_CHARSETS);

/** Every kind of Content-Encoding: none, identity, compressed (with bytes that do not decompress), unknown. */
const ENCODINGS = [undefined, undefined, undefined, 'identity', 'gzip', 'deflate', 'br', 'x-bogus', 'GZIP'];
const COMPRESSED = ['gzip', 'deflate', 'br', 'GZIP'];
export const contentEncoding = fc.constantFrom(...ENCODINGS);

export const webhookContentEncoding = KNOWN_5XX.webhookUndecodableBody
  ? fc.constantFrom(...ENCODINGS.filter((e) => !COMPRESSED.includes(e as string)))
  : contentEncoding;
export const appApiContentEncoding = KNOWN_5XX.appApiBodyParserErrors ? fc.constantFrom(undefined, undefined, 'identity') : contentEncoding;
export const appApiContentType = KNOWN_5XX.appApiBodyParserErrors ? fc.constantFrom(...SUPPORTED_TYPES) : contentType;

/** Bodies: random bytes, random text, random JSON values and JSON objects, the empty body. */
export const anyBody: fc.Arbitrary<Buffer | string> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })).map((v) => JSON.stringify(v)),
  fc.constant(''),
  fc.constant('{'),
  fc.constant('null'),
);

/** Extra headers with random names and values (names are header tokens). */
export const extraHeaders = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade'].includes(n)),
  headerValue,
  { maxKeys: 4 },
);

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 100);
