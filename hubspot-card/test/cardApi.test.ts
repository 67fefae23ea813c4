import { CardApiError, cardEndpointUrl, cardRequestFrom, isCardResponse, postCard, REQUEST_TIMEOUT_MS } from '../src/app/cards/lib/cardApi';
import { cardProfile } from '../src/app/cards/lib/profile';
import { customerStatus, fakeHubSpotFetch, linked, notLinked } from './fixtures';
import { TEST_BACKEND_URL } from './render';

afterEach(() => jest.restoreAllMocks());

const request = { portalId: 987, contactId: '1501' };

async function failure(promise: Promise<unknown>): Promise<CardApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CardApiError) return err;
    throw err;
  }
  throw new Error('expected a CardApiError');
}

describe('cardRequestFrom', () => {
  it('takes the portal id and the record id (as a string) from the extension context', () => {
    expect(cardRequestFrom({ portal: { id: 42 }, crm: { objectId: 1501 } })).toEqual({ portalId: 42, contactId: '1501' });
  });
});

describe('cardProfile', () => {
  it('takes the backend URL (without trailing slashes) and the distribution from the profile variables', () => {
    expect(cardProfile({ BACKEND_URL: 'https://sync.example.com/', DISTRIBUTION: 'private' })).toEqual({
      backendUrl: 'https://sync.example.com',
      distribution: 'private',
    });
    expect(cardProfile({ BACKEND_URL: ' https://sync.example.com/base ' })).toEqual({ backendUrl: 'https://sync.example.com/base', distribution: 'marketplace' });
  });

  it('has no backend URL without an https URL in the profile', () => {
    for (const BACKEND_URL of [undefined, '', 'sync.example.com', 'http://sync.example.com', 'https://', 'https://a b.com', 'https://x.com?q=1', 42]) {
      expect(cardProfile(BACKEND_URL === undefined ? {} : { BACKEND_URL }).backendUrl).toBeNull();
    }
    expect(cardProfile(undefined)).toEqual({ backendUrl: null, distribution: 'marketplace' });
  });
});

describe('postCard', () => {
  it('POSTs the request as JSON to the profile’s backend with hubspot.fetch’s own timeout under 15 s, and returns the answer', async () => {
    const answer = linked(customerStatus());
    const { calls } = fakeHubSpotFetch(() => ({ status: 200, body: answer }));

    await expect(postCard(TEST_BACKEND_URL, 'status', request)).resolves.toEqual(answer);
    await expect(postCard(TEST_BACKEND_URL, 'refresh', request)).resolves.toEqual(answer);
    expect(calls).toEqual([
      { url: cardEndpointUrl(TEST_BACKEND_URL, 'status'), method: 'POST', body: request, timeout: REQUEST_TIMEOUT_MS.status },
      { url: cardEndpointUrl(TEST_BACKEND_URL, 'refresh'), method: 'POST', body: request, timeout: REQUEST_TIMEOUT_MS.refresh },
    ]);
    expect(cardEndpointUrl(TEST_BACKEND_URL, 'status')).toBe(`${TEST_BACKEND_URL}/api/card/v1/status`);
    expect(Math.max(...Object.values(REQUEST_TIMEOUT_MS))).toBeLessThan(15_000);
  });

  it('turns an {error:{code,message}} answer into a CardApiError with the status', async () => {
    fakeHubSpotFetch(() => ({ status: 403, body: { error: { code: 'forbidden', message: 'This portal has no access.' } } }));
    const err = await failure(postCard(TEST_BACKEND_URL, 'status', request));
    expect([err.code, err.message, err.status]).toEqual(['forbidden', 'This portal has no access.', 403]);
  });

  it('reports an error answer that is not JSON by its HTTP status', async () => {
    fakeHubSpotFetch(() => ({ status: 500, text: '<html>Internal Server Error</html>' }));
    const err = await failure(postCard(TEST_BACKEND_URL, 'status', request));
    expect([err.code, err.status]).toEqual(['http_error', 500]);
    expect(err.message).toContain('HTTP 500');
  });

  it.each([
    ['not JSON', { status: 200, text: 'ok' }],
    ['an unknown state', { status: 200, body: { state: 'maybe' } }],
    ['an unknown not-linked reason', { status: 200, body: { state: 'not_linked', reason: 'other', message: 'x', canCheckStripe: false } }],
    ['customers that are not customer statuses', { status: 200, body: { state: 'linked', customers: [{ customerId: 'cus_1' }], syncing: 0 } }],
  ])('refuses a success answer with %s', async (_what, answer) => {
    fakeHubSpotFetch(() => answer);
    const err = await failure(postCard(TEST_BACKEND_URL, 'status', request));
    expect(err.code).toBe('bad_response');
  });

  it('reports a hubspot.fetch that gave up (its timeout, or no connection) as unreachable, with the time it waited', async () => {
    fakeHubSpotFetch(() => new Error('Request timed out'));
    const err = await failure(postCard(TEST_BACKEND_URL, 'refresh', request));
    expect([err.code, err.status]).toEqual(['network', null]);
    expect(err.message).toContain(`within ${REQUEST_TIMEOUT_MS.refresh / 1000} seconds`);
  });
});

describe('isCardResponse', () => {
  it('accepts the answers of the contract', () => {
    expect(isCardResponse(linked(customerStatus(), customerStatus({ customerId: 'cus_2' })))).toBe(true);
    expect(isCardResponse(linked())).toBe(true);
    expect(isCardResponse({ ...linked(), syncing: 2 })).toBe(true);
    expect(isCardResponse({ ...linked(customerStatus()), warning: 'Stripe could not be reached; showing the last synced state.' })).toBe(true);
    expect(isCardResponse(notLinked('no_install', 'Install the app.'))).toBe(true);
    expect(isCardResponse(notLinked('no_customer', 'No customer.', { canCheckStripe: true, warning: 'Stripe did not answer.' }))).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isCardResponse(null)).toBe(false);
    expect(isCardResponse([])).toBe(false);
    expect(isCardResponse({ state: 'linked', customers: [] })).toBe(false);
    expect(isCardResponse({ state: 'linked', customers: [], syncing: -1 })).toBe(false);
    expect(isCardResponse({ ...linked(), warning: 42 })).toBe(false);
    expect(isCardResponse({ state: 'not_linked', reason: 'no_install' })).toBe(false);
    expect(isCardResponse({ state: 'not_linked', reason: 'no_customer', message: 'x' })).toBe(false);
  });
});
