import Stripe from 'stripe';

/** A Stripe event whose signature checked out, with the fields the inbox keeps. */
export interface VerifiedEvent {
  id: string;
  type: string;
  accountId: string | null;
  livemode: boolean;
  created: number;
  /** The request body exactly as signed (a JSON text). */
  raw: string;
}

export type RejectCode = 'missing_signature' | 'invalid_signature' | 'stale_signature' | 'malformed_json' | 'bad_request';

export type VerifyResult = { ok: true; event: VerifiedEvent } | { ok: false; code: RejectCode; message: string };

/**
 * Checks a webhook body against each signing secret of the list (several during a secret roll) with the
 * `stripe` library, then that the body is a Stripe event. A signature that matches but is older than
 * `toleranceSeconds` is `stale_signature`.
 */
export function verifyStripeWebhook(
  body: Buffer | string,
  header: string | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
): VerifyResult {
  if (!header || header.trim() === '') {
    return { ok: false, code: 'missing_signature', message: 'The Stripe-Signature header is missing.' };
  }
  const raw = typeof body === 'string' ? body : body.toString('utf8');
  for (const secret of secrets) {
    let parsed: unknown;
    try {
      parsed = Stripe.webhooks.constructEvent(raw, header, secret, toleranceSeconds);
    } catch (err) {
      if (err instanceof SyntaxError) {
        return { ok: false, code: 'malformed_json', message: 'The body is not valid JSON.' };
      }
      if (isSignatureError(err)) continue;
      return { ok: false, code: 'bad_request', message: `The body is not a Stripe webhook event: ${(err as Error).message}` };
    }
    return toVerifiedEvent(parsed, raw);
  }
  // No secret verified it: tell a stale signature (it matches when the age is not checked) from a wrong one.
  const signature = Stripe.webhooks.signature;
  const matchesWhenOld = secrets.some((secret) => {
    try {
      return signature?.verifyHeader(raw, header, secret, 0) === true;
    } catch {
      return false;
    }
  });
  return matchesWhenOld
    ? { ok: false, code: 'stale_signature', message: `The signature is older than ${toleranceSeconds} seconds.` }
    : { ok: false, code: 'invalid_signature', message: 'The signature does not match the body for any signing secret.' };
}

function isSignatureError(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeSignatureVerificationError;
}

/**
 * A value the inbox can keep in a text column: 1–255 characters, no NUL and no lone surrogate (PostgreSQL refuses
 * both). Stripe's ids, types and account ids are plain ASCII; the payload itself is made storable separately.
 */
function storableText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 255 && !v.includes('\u0000') && !LONE_SURROGATE.test(v);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function toVerifiedEvent(parsed: unknown, raw: string): VerifyResult {
  const e = parsed as Record<string, unknown> | null;
  const problem =
    typeof e !== 'object' || e === null || Array.isArray(e)
      ? 'not a JSON object'
      : !storableText(e.id)
        ? 'id is missing'
        : !storableText(e.type)
          ? 'type is missing'
          : typeof e.created !== 'number' || !Number.isSafeInteger(e.created) || e.created < 0
            ? 'created is missing'
            : typeof e.livemode !== 'boolean'
              ? 'livemode is missing'
              : e.account !== undefined && e.account !== null && !storableText(e.account)
                ? 'account is not an account id'
                : null;
  if (problem || !e) return { ok: false, code: 'bad_request', message: `The body is not a Stripe event: ${problem}.` };
  return {
    ok: true,
    event: {
      id: e.id as string,
      type: e.type as string,
      accountId: (e.account as string | undefined) ?? null,
      livemode: e.livemode as boolean,
      created: e.created as number,
      raw,
    },
  };
}
