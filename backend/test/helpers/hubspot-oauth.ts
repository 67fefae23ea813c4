import { createHash, randomBytes } from 'node:crypto';
import type { FakeHubSpot } from '../fakes/hubspot/server';
import { appRequest, type AppCaller } from './app-api';

/**
 * The Stripe App's HubSpot connection, played as the Dashboard and HubSpot would: createOAuthState() (a state and a
 * PKCE pair), the backend's authorize URL, HubSpot's authorize step (the fake issues a code for that challenge and
 * redirect URI, as HubSpot does when the merchant approves), then connect and confirm.
 */

export interface OAuthAttempt {
  state: string;
  verifier: string;
  challenge: string;
}

/** What the SDK's createOAuthState() gives the view (the verifier stays with the Dashboard until the way back). */
export function oauthAttempt(): OAuthAttempt {
  const verifier = randomBytes(32).toString('base64url');
  return { state: randomBytes(16).toString('base64url'), verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** GET /hubspot/authorize-url with the attempt's state and challenge. */
export function requestAuthorizeUrl(baseUrl: string, caller: AppCaller, mode: 'test' | 'live', attempt: OAuthAttempt) {
  const q = new URLSearchParams({ mode, state: attempt.state, challenge: attempt.challenge });
  return appRequest(baseUrl, 'GET', `/hubspot/authorize-url?${q.toString()}`, caller);
}

/**
 * HubSpot's authorize page, approved for `portalId`: a code bound to the URL's redirect URI and PKCE challenge
 * (so the exchange needs the verifier). Returns the code and the state HubSpot sends back.
 */
export function approveAtHubSpot(hubspot: FakeHubSpot, authorizeUrl: string, portalId: number, opts: { hubDomain?: string } = {}) {
  const url = new URL(authorizeUrl);
  const code = `code-${randomBytes(8).toString('hex')}`;
  hubspot.issueAuthorizationCode(code, portalId, {
    hubDomain: opts.hubDomain,
    redirectUri: url.searchParams.get('redirect_uri') ?? undefined,
    codeChallenge: url.searchParams.get('code_challenge') ?? undefined,
  });
  return { code, state: url.searchParams.get('state') ?? '' };
}

/** The whole flow up to the pending connection: authorize URL, HubSpot's approval, POST /hubspot/connect. */
export async function startConnection(
  baseUrl: string,
  hubspot: FakeHubSpot,
  args: { caller: AppCaller; mode: 'test' | 'live'; portalId: number; hubDomain?: string },
) {
  const attempt = oauthAttempt();
  const authorize = await requestAuthorizeUrl(baseUrl, args.caller, args.mode, attempt);
  if (authorize.status !== 200) throw new Error(`authorize-url answered ${authorize.status}: ${JSON.stringify(authorize.body)}`);
  const { code, state } = approveAtHubSpot(hubspot, authorize.body.url, args.portalId, { hubDomain: args.hubDomain });
  const connect = await appRequest(baseUrl, 'POST', '/hubspot/connect', args.caller, { mode: args.mode, code, state, verifier: attempt.verifier });
  return { attempt, code, connect };
}

/** Connects `portalId` for (caller, mode) the way a merchant does, confirmation included; throws on any refusal. */
export async function connectHubSpot(
  baseUrl: string,
  hubspot: FakeHubSpot,
  args: { caller: AppCaller; mode: 'test' | 'live'; portalId: number; hubDomain?: string },
) {
  const { connect } = await startConnection(baseUrl, hubspot, args);
  if (connect.status !== 200) throw new Error(`connect answered ${connect.status}: ${JSON.stringify(connect.body)}`);
  const confirm = await appRequest(baseUrl, 'POST', '/hubspot/connect/confirm', args.caller, { mode: args.mode, portalId: args.portalId });
  if (confirm.status !== 200) throw new Error(`confirm answered ${confirm.status}: ${JSON.stringify(confirm.body)}`);
  return { pending: connect.body.pending, connection: confirm.body.connection };
}
