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

/** All the scopes the marketplace app asks for in these tests: contacts, companies, deals, tickets, timeline. */
export const ALL_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.schemas.companies.write',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.schemas.deals.write',
  'tickets',
  'timeline',
];

let codes = 0;

/** An OAuth access token of the fake's app for a portal (authorization code exchanged through the token endpoint). */
export async function oauthToken(fake: FakeHubSpot, portalId: number, scopes: string[] = ALL_SCOPES): Promise<string> {
  const code = `test-code-${++codes}`;
  fake.issueAuthorizationCode(code, portalId, { scopes });
  const res = await raw(fake, 'POST', '/oauth/v1/token', {
    form: { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', client_id: 'test-client-id', client_secret: 'test-client-secret' },
  });
  if (res.status !== 200) throw new Error(`token exchange failed: ${res.status} ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

/** A real SDK client with an OAuth access token of the fake's app. */
export async function oauthClient(fake: FakeHubSpot, portalId: number, scopes?: string[]): Promise<Client> {
  return new Client({ accessToken: await oauthToken(fake, portalId, scopes), basePath: fake.url, numberOfApiCallRetries: 0 });
}
