import { CARD_API_PREFIX } from './lib/contracts';

/**
 * Where the card's backend lives. It must be listed in `permittedUrls.fetch` of `src/app/app-hsmeta.json`
 * (HubSpot refuses any other URL; a test checks both agree). HTTPS only: hubspot.fetch refuses localhost.
 */
export const BACKEND_URL = 'https://api.stripe-hubspot-sync.dev';

export type CardEndpoint = 'status' | 'refresh';

export function cardEndpointUrl(endpoint: CardEndpoint): string {
  return `${BACKEND_URL}${CARD_API_PREFIX}/${endpoint}`;
}

/**
 * Per-request timeouts in ms, under hubspot.fetch's 15 s ceiling. /status answers from our database; /refresh reads
 * Stripe live and the backend stops itself before this, so the card gets an answer (or a clear timeout) in time.
 */
export const REQUEST_TIMEOUT_MS: Record<CardEndpoint, number> = { status: 8_000, refresh: 14_000 };
