import { Client } from '@hubspot/api-client';
import type { FakeHubSpot } from './server';

/** Helpers for the fake's own tests: real SDK clients against the fake, and raw HTTP calls. */

/** A real SDK client for a portal (private-app token), no SDK retries and no SDK limiter. */
export function sdkClient(fake: FakeHubSpot, portalId: number, token = `pat-${portalId}`): Client {
  fake.addPrivateAppToken(token, portalId);
  return new Client({ accessToken: token, basePath: fake.url, numberOfApiCallRetries: 0 });
}

export interface SdkError {
  code: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Runs an SDK call expected to fail and returns its ApiException's code, body and headers. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (e) {
    const err = e as Partial<SdkError>;
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, body: (err.body ?? {}) as Record<string, unknown>, headers: err.headers ?? {} };
  }
  throw new Error('expected the HubSpot call to fail');
}

/** A raw JSON request to the fake (for shapes the SDK would not send). */
export async function raw(
  fake: FakeHubSpot,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; form?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(`${fake.url}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}
