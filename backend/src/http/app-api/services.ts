import type { Db } from '../../adapters/store/db';
import type { BackfillProgress, HubSpotConnection } from '@stripe-hubspot-sync/contracts';
import type { OAuthFlow } from '../../adapters/hubspot/oauth-flow';

/** Connecting through HubSpot OAuth (state + PKCE, then the merchant's confirmation): see oauth-flow.ts. */
export type OAuthService = Omit<OAuthFlow, 'confirm'> & {
  confirm(...args: Parameters<OAuthFlow['confirm']>): Promise<HubSpotConnection>;
};

/** What the app API needs besides the database: the HubSpot installs and a nudge for the pusher. */
export interface InstallService {
  connection(account: string, livemode: boolean): Promise<HubSpotConnection | null>;
  /** Null when this backend has no HubSpot OAuth app (HUBSPOT_CLIENT_ID / HUBSPOT_CLIENT_SECRET). */
  oauth: OAuthService | null;
  disconnect(account: string, livemode: boolean): Promise<boolean>;
}

export interface BackfillService {
  progress(account: string, livemode: boolean): Promise<BackfillProgress | null>;
  start(account: string, livemode: boolean): Promise<BackfillProgress>;
  cancel(account: string, livemode: boolean): Promise<BackfillProgress | null>;
}

export interface AppApiDeps {
  db: Db;
  installs: InstallService;
  backfill?: BackfillService;
  wakePusher(): void;
  /** The data centre of the private-app token's portal (`pat-eu1-…` → eu1), for links to HubSpot records. */
  privateAppHublet?: string | null;
}
