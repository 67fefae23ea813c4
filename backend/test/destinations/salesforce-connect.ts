import type { DestinationSummary, Mode } from '@stripe-hubspot-sync/contracts';
import { appRequest } from '../helpers/app-api';
import type { FakeSalesforceOAuth } from '../fakes/salesforce/oauth';

/**
 * "Connect with Salesforce" as a merchant does it, for end-to-end tests, in either mode and environment: through the
 * signed Stripe App API — the authorize URL, the user's approval on the org's login host (a code minted by the fake
 * for the URL's redirect URI, scope and S256 challenge), then the connect call with the code and the state. The org
 * needs the fields an admin creates first (`addDefaultSyncFields` in fakes/salesforce/default-fields.ts).
 */

/** The connected app's consumer key and secret the backend is configured with (SALESFORCE_CLIENT_ID / _SECRET). */
export const SALESFORCE_TEST_CLIENT = { clientId: '3MVG9e2e-client-id-0001', clientSecret: 'sf-e2e-client-secret-0001' };

/** Connects the org at this login host in `mode` through the Stripe App's signed API: the destination it answers. */
export async function connectSalesforce(args: {
  serverUrl: string;
  caller: { accountId: string };
  oauth: FakeSalesforceOAuth;
  mode: Mode;
  environment: 'production' | 'sandbox';
}): Promise<DestinationSummary> {
  const { serverUrl, caller, oauth, mode, environment } = args;
  const r = await appRequest(serverUrl, 'GET', `/destinations/salesforce/authorize-url?mode=${mode}&environment=${environment}`, caller);
  if (r.status !== 200) throw new Error(`authorize-url answered ${r.status}: ${JSON.stringify(r.body)}`);
  const url = new URL(r.body.url as string);
  const code = oauth.issueCode({
    challenge: url.searchParams.get('code_challenge')!,
    redirectUri: url.searchParams.get('redirect_uri')!,
    scope: url.searchParams.get('scope')!,
  });
  const c = await appRequest(serverUrl, 'POST', '/destinations/salesforce/connect', caller, { mode, code, state: url.searchParams.get('state') });
  if (c.status !== 201) throw new Error(`connect answered ${c.status}: ${JSON.stringify(c.body)}`);
  return c.body.destination as DestinationSummary;
}
