import { createHmac } from 'node:crypto';
import { CARD_API_PREFIX } from '@stripe-hubspot-sync/contracts';

/**
 * Calls the card API the way HubSpot's `hubspot.fetch` does, signed with HubSpot's v3 recipe written out here on
 * its own (node crypto), independently of `src/http/card-api/hubspot-signature.ts`:
 *   base64(HMAC-SHA256(client secret, METHOD + URI + raw body + timestamp-in-ms)),
 * where the URI is the full URL as called, with HubSpot's table of percent-escapes decoded first.
 */

export const CARD_SECRET = 'hubspot-client-secret-for-card-tests';

/** Server environment for the card: the HubSpot app (client id and secret go together, with a token key). */
export const CARD_ENV: Record<string, string> = {
  HUBSPOT_CLIENT_ID: 'test-client-id',
  HUBSPOT_CLIENT_SECRET: CARD_SECRET,
  TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32),
};

/** HubSpot's documented list of escapes it decodes in the request URI before signing. */
const HUBSPOT_DECODES: [string, string][] = [
  ['%3A', ':'], ['%2F', '/'], ['%3F', '?'], ['%40', '@'], ['%21', '!'], ['%24', '$'],
  ['%27', "'"], ['%28', '('], ['%29', ')'], ['%2A', '*'], ['%2C', ','], ['%3B', ';'],
];

export function hubspotUri(url: string): string {
  let out = url;
  for (const [escaped, plain] of HUBSPOT_DECODES) {
    out = out.split(escaped).join(plain).split(escaped.toLowerCase()).join(plain);
  }
  return out;
}

export function hubspotSignatureV3(secret: string, method: string, url: string, body: string, timestampMs: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(Buffer.from(method + hubspotUri(url) + body + timestampMs, 'utf8'));
  return mac.digest().toString('base64');
}

export interface CardCallOptions {
  /** Signing secret (default CARD_SECRET). */
  secret?: string;
  /** Timestamp in ms (default now). */
  timestampMs?: number;
  /** The portal HubSpot appends to the query (default: the body's portalId); null appends none. */
  queryPortalId?: number | string | null;
  /** Sign this URL instead of the one called (another URL). */
  signedUrl?: string;
  /** Sign this body instead of the one sent (tampered body). */
  signedBody?: string;
  /** Send a raw body instead of JSON.stringify(body). */
  rawBody?: string;
  /** Headers that replace (or, when undefined, drop) the signature headers. */
  headers?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export interface CardAnswer {
  status: number;
  body: any;
  ms: number;
}

/** The URL HubSpot calls: our path plus the query it appends (portalId, userId, userEmail, appId). */
export function cardUrl(baseUrl: string, path: '/status' | '/refresh' | string, queryPortalId: number | string | null): string {
  const q = queryPortalId === null ? '' : `?portalId=${encodeURIComponent(String(queryPortalId))}&userId=77&userEmail=sales%40example.com&appId=1234`;
  return `${baseUrl}${CARD_API_PREFIX}${path}${q}`;
}

export async function cardCall(
  baseUrl: string,
  path: string,
  body: { portalId: unknown; contactId: unknown } | Record<string, unknown>,
  opts: CardCallOptions = {},
): Promise<CardAnswer> {
  const raw = opts.rawBody ?? JSON.stringify(body);
  const queryPortal = opts.queryPortalId === undefined ? ((body as { portalId?: unknown }).portalId as number) : opts.queryPortalId;
  const url = cardUrl(baseUrl, path, queryPortal);
  const ts = String(opts.timestampMs ?? Date.now());
  const signature = hubspotSignatureV3(opts.secret ?? CARD_SECRET, 'POST', opts.signedUrl ?? url, opts.signedBody ?? raw, ts);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-hubspot-signature-v3': signature,
    'x-hubspot-request-timestamp': ts,
  };
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v === undefined) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000) });
  const text = await res.text();
  const ms = performance.now() - started;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed, ms };
}
