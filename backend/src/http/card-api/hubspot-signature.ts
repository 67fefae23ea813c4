import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { ErrorCode } from '../errors';

/**
 * HubSpot request signature v3: base64(HMAC-SHA256(client secret, method + URI + raw body + timestamp)), with
 * `X-HubSpot-Request-Timestamp` in ms and a 5-minute window. HubSpot signs the URI with these characters
 * decoded: : / ? @ ! $ ' ( ) * , ;  — we decode the same ones before hashing. Compared in constant time.
 */
export type SignatureCheck = 'ok' | 'missing' | 'stale' | 'invalid';

const DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function signableUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()]);
}

export function signV3(secret: string, method: string, url: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${signableUri(url)}${rawBody}${timestamp}`, 'utf8')
    .digest('base64');
}

export function verifyV3(input: {
  secret: string;
  method: string;
  /** The full URL as HubSpot called it (scheme, host, path and query). */
  url: string;
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs?: number;
  maxAgeMs?: number;
}): SignatureCheck {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return 'missing';
  if (!/^\d{10,16}$/.test(timestamp)) return 'invalid';
  const age = (input.nowMs ?? Date.now()) - Number(timestamp);
  if (Math.abs(age) > (input.maxAgeMs ?? 300_000)) return 'stale';
  const expected = Buffer.from(signV3(input.secret, input.method, input.url, input.rawBody, timestamp), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // Equal lengths first (timingSafeEqual needs them); the length of a base64 SHA-256 is public anyway.
  if (given.length !== expected.length) return 'invalid';
  return timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}

/**
 * Checks an Express request HubSpot signed (v3): the URL as HubSpot called it — rebuilt from `publicUrl` behind a
 * proxy, else from the request's own scheme and host — with the raw body and the signature headers.
 */
export function verifyHubSpotRequest(req: Request, rawBody: string, secret: string, publicUrl: string | undefined): SignatureCheck {
  const base = publicUrl ? publicUrl.replace(/\/$/, '') : `${req.protocol}://${req.get('host')}`;
  return verifyV3({
    secret,
    method: req.method,
    url: `${base}${req.originalUrl}`,
    rawBody,
    signature: req.get('x-hubspot-signature-v3'),
    timestamp: req.get('x-hubspot-request-timestamp'),
  });
}

/** The error code of a refused signature check. */
export function signatureErrorCode(check: Exclude<SignatureCheck, 'ok'>): ErrorCode {
  return check === 'missing' ? 'missing_signature' : check === 'stale' ? 'stale_signature' : 'invalid_signature';
}

/** A client secret HubSpot signs with, named by the app it belongs to. */
export interface SigningApp<A extends string> {
  app: A;
  secret: string;
}

/**
 * Checks a request against the secret of each of our HubSpot apps (the marketplace app, the self-hosted app) and
 * answers which app signed it, or why none did ('missing' and 'stale' do not depend on the secret).
 */
export function verifyHubSpotRequestOfApps<A extends string>(
  req: Request,
  rawBody: string,
  apps: readonly SigningApp<A>[],
  publicUrl: string | undefined,
): { check: 'ok'; app: A } | { check: Exclude<SignatureCheck, 'ok'> } {
  let refused: Exclude<SignatureCheck, 'ok'> = 'missing';
  for (const { app, secret } of apps) {
    const check = verifyHubSpotRequest(req, rawBody, secret, publicUrl);
    if (check === 'ok') return { check, app };
    refused = check;
  }
  return { check: refused };
}

/** The names of the query parameters HubSpot appends to every `hubspot.fetch` URL (and signs with it). */
export const CARD_FETCH_QUERY = ['portalId', 'userId', 'userEmail', 'appId'] as const;
