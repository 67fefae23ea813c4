import { signatureHeader } from './stripe-fixtures';
import { APP_API_PREFIX } from '@stripe-hubspot-sync/contracts';

export const TEST_APP_SECRET = 'absec_test_app_secret';

export interface AppCaller {
  accountId: string;
  userId?: string;
  secret?: string;
  /** Signature timestamp (unix seconds), default now. */
  timestamp?: number;
}

/** Calls the Stripe App API the way a Dashboard view does: signed `{user_id, account_id}` and identity headers. */
export async function appRequest(
  baseUrl: string,
  method: string,
  path: string,
  caller: AppCaller,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const userId = caller.userId ?? 'usr_test';
  const payload = JSON.stringify({ user_id: userId, account_id: caller.accountId });
  const res = await fetch(`${baseUrl}${APP_API_PREFIX}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signatureHeader(payload, caller.secret ?? TEST_APP_SECRET, caller.timestamp),
      'x-stripe-user-id': userId,
      'x-stripe-account-id': caller.accountId,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed };
}
