import type { SdkCall } from './call';

/**
 * A create HubSpot cannot make idempotent for us (tasks: no unique property in every portal) must never be sent
 * twice by our own retries. `callHubSpot` retries 5xx and network failures, and those are exactly the answers that
 * may come after HubSpot applied the write. `writeOnce` wraps the SDK call: once an attempt ended that way, a
 * retry does not send it again but fails with `AmbiguousWriteError`, which is no HTTP failure, so the caller sees
 * it at once; it then looks for what the first attempt may have made before creating anything. Answers that
 * prove nothing was applied (any 4xx: 429 rate limits, 423 locks, 401 before a token refresh) may be retried.
 */

export class AmbiguousWriteError extends Error {
  override readonly name = 'AmbiguousWriteError';
  constructor(readonly operation: string) {
    super(`HubSpot may have applied ${operation} without our hearing it (the answer was lost); it is looked for before being sent again`);
  }
}

export function writeOnce<T>(operation: string, fn: SdkCall<T>): SdkCall<T> {
  let mayHaveApplied = false;
  return async (client, sdk) => {
    if (mayHaveApplied) throw new AmbiguousWriteError(operation);
    mayHaveApplied = true;
    try {
      return await fn(client, sdk);
    } catch (err) {
      if (provenNotApplied(err)) mayHaveApplied = false;
      throw err;
    }
  };
}

/** An HTTP answer below 500 (the SDK's ApiException carries the status as a number `code`). */
function provenNotApplied(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400 && code < 500;
}
