import { hubspot } from '@hubspot/ui-extensions';
import { cardEndpointUrl, REQUEST_TIMEOUT_MS, type CardEndpoint } from '../config';
import type { ApiErrorCode, CardRequest, CardResponse } from './contracts';

/**
 * The card's only network code: POST JSON to our backend through `hubspot.fetch` (HubSpot signs the request with
 * X-HubSpot-Signature-v3; the card sends no secrets). Every failure becomes a CardApiError with a code and a
 * message fit to show the user.
 */

/** Our API's error codes, plus what can go wrong before an answer arrives. */
export type CardErrorCode = ApiErrorCode | 'network' | 'timeout' | 'bad_response' | 'http_error';

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

export async function postCard(endpoint: CardEndpoint, request: CardRequest): Promise<CardResponse> {
  const timeout = REQUEST_TIMEOUT_MS[endpoint];
  let response: Response;
  try {
    response = await withTimeout(
      hubspot.fetch(cardEndpointUrl(endpoint), {
        method: 'POST',
        timeout,
        body: { portalId: request.portalId, contactId: request.contactId },
      }),
      timeout,
    );
  } catch (err) {
    if (err instanceof CardApiError) throw err;
    throw new CardApiError('network', 'Could not reach the Stripe sync service. Check your connection and try again.');
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

export const fetchStatus = (request: CardRequest): Promise<CardResponse> => postCard('status', request);
export const refreshStatus = (request: CardRequest): Promise<CardResponse> => postCard('refresh', request);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new CardApiError('timeout', `The Stripe sync service did not answer within ${Math.round(ms / 1000)} seconds.`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
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

/** Checks the shape the views rely on; a backend of another version fails here, not deep in a render. */
export function isCardResponse(payload: unknown): payload is CardResponse {
  if (!isObject(payload)) return false;
  if (payload.state === 'not_linked') {
    return typeof payload.reason === 'string' && NOT_LINKED_REASONS.includes(payload.reason) && typeof payload.message === 'string';
  }
  if (payload.state === 'linked') {
    return (
      Array.isArray(payload.customers) &&
      payload.customers.every(
        (c: unknown) =>
          isObject(c) &&
          typeof c.customerId === 'string' &&
          typeof c.dashboardUrl === 'string' &&
          typeof c.livemode === 'boolean' &&
          typeof c.lifetimeValue === 'number',
      )
    );
  }
  return false;
}
