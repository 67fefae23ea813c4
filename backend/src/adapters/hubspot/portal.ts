import type { CallHubSpot, PortalAuth, SdkCall } from './call';
import type { CallKind } from './rate-budget';

/** One HubSpot portal as we call it: its id and a safe `call` (rate budget, retries, token refresh). */
export interface HubSpotPortal {
  readonly portalId: number;
  call<T>(kind: CallKind, operation: string, fn: SdkCall<T>): Promise<T>;
}

export interface PortalCallDefaults {
  /** Fraction of the portal's rate budget these calls may use (backfill: 0.5). */
  share?: number;
  /** Longest wait for the rate budget per attempt. */
  maxBudgetWaitMs?: number;
}

export function bindPortal(callHubSpot: CallHubSpot, auth: PortalAuth, defaults: PortalCallDefaults = {}): HubSpotPortal {
  return {
    portalId: auth.portalId,
    call: (kind, operation, fn) => callHubSpot(auth, kind, fn, { operation, ...defaults }),
  };
}
