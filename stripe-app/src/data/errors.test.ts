import { ApiRequestError, blockedByCspMessage, describeError, errorFromResponse } from './errors';

/** What a merchant reads: the backend's operator notes never, a refusal of their own request in its words. */
describe('describeError', () => {
  const answer = (status: number, code: string, message: string) => describeError(errorFromResponse(status, { error: { code, message } }));

  it('never passes on a service-side message (5xx), whatever it names', () => {
    for (const [status, code, message] of [
      [503, 'internal', 'The Stripe App API is not configured (STRIPE_APP_SECRET)'],
      [500, 'internal', 'relation "customers" does not exist'],
      [503, 'service_unavailable', 'DATABASE_URL unreachable'],
      [502, 'bad_request', 'upstream said HUBSPOT_CLIENT_SECRET is wrong'],
    ] as const) {
      const text = answer(status, code, message);
      expect(text).not.toContain(message);
      expect(text).not.toMatch(/[A-Z]+_[A-Z]+/);
    }
    expect(answer(503, 'internal', 'STRIPE_APP_SECRET')).toBe(
      'Something went wrong in the sync service. Try again in a moment; if it keeps happening, contact the app’s support.',
    );
  });

  it('says the backend cannot connect HubSpot when it has no OAuth app, and "not connected" otherwise', () => {
    expect(answer(503, 'not_connected', 'HubSpot OAuth is not configured on this backend')).toBe(
      'The sync service is not set up to connect HubSpot accounts yet. Contact the app’s support.',
    );
    expect(answer(409, 'not_connected', 'No HubSpot connection for test mode')).toBe('No HubSpot connection for test mode');
    expect(answer(503, 'not_configured', 'Set TOKEN_ENCRYPTION_KEY')).toBe('The sync service is not fully set up yet. Contact the app’s support.');
  });

  it('keeps a refusal of the merchant’s own request, unless it reads like an operator’s note', () => {
    expect(answer(400, 'invalid_oauth_state', 'This HubSpot authorization expired. Start again.')).toBe('This HubSpot authorization expired. Start again.');
    expect(answer(400, 'bad_request', 'HUBSPOT_CLIENT_ID is missing')).toMatch(/^Something went wrong in the sync service/);
    expect(answer(401, 'invalid_signature', 'The signature does not match')).toBe('Your session could not be verified. Reload the page and try again.');
  });

  it('tells an unreachable service from one the app’s configuration does not allow', () => {
    expect(describeError(new ApiRequestError('network_error', 'Failed to fetch'))).toMatch(/can’t be reached/);
    const blocked = new ApiRequestError('blocked_by_csp', blockedByCspMessage('https://api.example.com/api/app/v1/settings?mode=test'));
    expect(describeError(blocked)).toBe(
      'This app’s configuration does not allow it to reach its sync service at https://api.example.com (it is not in the app’s allowed connections). Contact the app’s support.',
    );
  });
});
