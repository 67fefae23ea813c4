import { hubspot } from '@hubspot/ui-extensions';
import { CARD_API_PREFIX, type ApiErrorCode, type CardRequest, type CardResponse } from './contracts';

/**
 * The card's only network code: POST JSON to our backend through `hubspot.fetch` (HubSpot signs the request with
 * X-HubSpot-Signature-v3 and appends the calling portal and user to the URL; the card sends no secrets). Every
 * failure becomes a CardApiError with a code and a message fit to show the user.
 */

export type CardEndpoint = 'status' | 'refresh';

/**
 * hubspot.fetch's own `timeout` per endpoint, under its 15 s ceiling. /status answers from our database; /refresh
 * reads Stripe live and the backend stops itself before this, so the card gets an answer in time.
 */
export const REQUEST_TIMEOUT_MS: Record<CardEndpoint, number> = { status: 8_000, refresh: 14_000 };

export function cardEndpointUrl(backendUrl: string, endpoint: CardEndpoint): string {
  return `${backendUrl}${CARD_API_PREFIX}/${endpoint}`;
}

/** Our API's error codes, plus what can go wrong before an answer arrives. */
export type CardErrorCode = ApiErrorCode | 'network' | 'bad_response' | 'http_error';

export class CardApiError extends Error {
  readonly code: CardErrorCode;
  /** HTTP status when the backend answered, null when it did not. */
  readonly status: number | null;

  constructor(code: CardErrorCode, message: string, status: number | null = null) {
    super(message);
    this.name = 'CardApiError';
    this.code = code;
    this.status = status;
  }
}

/** The identity the backend checks against the stored install: the portal and the contact of this record. */
export function cardRequestFrom(context: { portal: { id: number }; crm: { objectId: number } }): CardRequest {
  return { portalId: context.portal.id, contactId: String(context.crm.objectId) };
}

export async function postCard(backendUrl: string, endpoint: CardEndpoint, request: CardRequest): Promise<CardResponse> {
  const timeout = REQUEST_TIMEOUT_MS[endpoint];
  let response: Response;
  try {
    response = await hubspot.fetch(cardEndpointUrl(backendUrl, endpoint), {
      method: 'POST',
      timeout,
      body: { portalId: request.portalId, contactId: request.contactId },
    });
  } catch {
    throw new CardApiError(
      'network',
      `Could not reach the Stripe sync service (no answer within ${Math.round(timeout / 1000)} seconds, or no connection). Try again in a moment.`,
    );
  }

  const payload = await readJson(response);
  if (!response.ok) {
    const apiError = asApiError(payload);
    throw new CardApiError(
      apiError?.code ?? 'http_error',
      apiError?.message ?? `The Stripe sync service answered with HTTP ${response.status}.`,
      response.status,
    );
  }
  if (!isCardResponse(payload)) {
    throw new CardApiError('bad_response', 'The Stripe sync service sent an answer this card does not understand.', response.status);
  }
  return payload;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asApiError(payload: unknown): { code: ApiErrorCode; message: string } | null {
  if (!isObject(payload) || !isObject(payload.error)) return null;
  const { code, message } = payload.error;
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  return { code: code as ApiErrorCode, message };
}

const NOT_LINKED_REASONS: readonly string[] = ['no_install', 'no_customer'];
const optionalString = (value: unknown) => value === undefined || typeof value === 'string';

/** Checks the shape the views rely on; a backend of another version fails here, not deep in a render. */
export function isCardResponse(payload: unknown): payload is CardResponse {
  if (!isObject(payload) || !optionalString(payload.warning)) return false;
  if (payload.state === 'not_linked') {
    return (
      typeof payload.reason === 'string' &&
      NOT_LINKED_REASONS.includes(payload.reason) &&
      typeof payload.message === 'string' &&
      typeof payload.canCheckStripe === 'boolean'
    );
  }
  if (payload.state === 'linked') {
    return (
      Number.isSafeInteger(payload.syncing) &&
      (payload.syncing as number) >= 0 &&
      Array.isArray(payload.customers) &&
      payload.customers.every(
        (c: unknown) =>
          isObject(c) &&
          typeof c.customerId === 'string' &&
          typeof c.dashboardUrl === 'string' &&
          typeof c.livemode === 'boolean' &&
          typeof c.lifetimeValue === 'number' &&
          typeof c.updatedAt === 'string',
      )
    );
  }
  return false;
}
