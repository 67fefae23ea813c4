import type { Db } from '../../adapters/store/db';
import type { BackfillProgress, HubSpotConnection } from '@stripe-hubspot-sync/contracts';

/** What the app API needs besides the database: the HubSpot installs and a nudge for the pusher. */
export interface InstallService {
  connection(account: string, livemode: boolean): Promise<HubSpotConnection | null>;
  /** The HubSpot authorize URL for this OAuth `state`, or null when OAuth is not configured. */
  authorizeUrl(state: string, livemode: boolean): string | null;
  connect(account: string, livemode: boolean, code: string): Promise<HubSpotConnection>;
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
}
