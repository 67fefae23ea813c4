import type { Db } from '../../adapters/store/db';
import type {
  BackfillProgress,
  DestinationKind,
  IntercomRegion,
  HubSpotConnection,
  OAuthDestinationKind,
  SalesforceEnvironment,
} from '@stripe-hubspot-sync/contracts';
import type { StoredDestination } from '../../adapters/store/destinations-store';
import type { OAuthFlow } from '../../adapters/hubspot/oauth-flow';
import type { ConnectionCheck } from '../../domain/destinations/port';

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
  /** Checks the connection with HubSpot now (the destination port's check); null: no connection in this mode. */
  check(account: string, livemode: boolean): Promise<ConnectionCheck | null>;
}

export interface BackfillService {
  progress(account: string, livemode: boolean): Promise<BackfillProgress | null>;
  start(account: string, livemode: boolean): Promise<BackfillProgress>;
  cancel(account: string, livemode: boolean): Promise<BackfillProgress | null>;
}

/** Destinations beside HubSpot (Klaviyo, Loops, …): key checks, sealing and the nudge of their pusher. */
export interface DestinationService {
  /** Checks a key with the destination: its label, or a `DestinationError`. */
  check(kind: DestinationKind, apiKey: string, region?: IntercomRegion | null): Promise<{ label: string }>;
  /** Checks the stored key of a destination now. */
  test(destination: StoredDestination): Promise<{ label: string }>;
  /** Seals a key for storage, bound to the destination id (null: no TOKEN_ENCRYPTION_KEY, keys cannot be stored). */
  seal(destinationId: string, apiKey: string): string | null;
  wake(): void;
  /**
   * "Connect with …" (OAuth; with PKCE where the destination has it) by kind: Klaviyo when KLAVIYO_CLIENT_ID/SECRET
   * are set, Salesforce when SALESFORCE_CLIENT_ID/SECRET are set, Intercom when INTERCOM_CLIENT_ID/SECRET are set
   * (each also needs TOKEN_ENCRYPTION_KEY); a kind absent is not configured.
   */
  oauth: Partial<Record<OAuthDestinationKind, DestinationOAuthService>>;
  /** Before a destination is deleted: revokes its OAuth refresh token at the destination (best effort; API keys: nothing). */
  beforeDelete(destination: StoredDestination): Promise<void>;
}

export interface DestinationOAuthService {
  /**
   * Records a state (this account, mode and user, and the Salesforce environment or Intercom region asked for) and a
   * PKCE verifier; answers the destination's authorize URL.
   */
  begin(
    who: { account: string; livemode: boolean; userId: string },
    options?: { environment?: SalesforceEnvironment; region?: IntercomRegion },
  ): Promise<string>;
  /**
   * Consumes the state, exchanges the code with its verifier, checks the connection with the new access token: its
   * label, the environment or region the state was issued for, and the tokens sealed for `destinationId` (a
   * credentials document of kind `oauth`). A refused check revokes the new tokens (where the destination can) and throws.
   */
  connect(args: { account: string; livemode: boolean; userId: string; code: string; state: string; destinationId: string }): Promise<{
    label: string;
    keySealed: string;
    environment: SalesforceEnvironment | null;
    /** Intercom: the workspace's region the state was issued for (null for other kinds). */
    region: IntercomRegion | null;
    /** Revokes these tokens (the destination could not be stored after all). */
    discard(): Promise<void>;
  }>;
}
/** @deprecated the generic service under its first name. */
export type KlaviyoOAuthService = DestinationOAuthService;

export interface AppApiDeps {
  db: Db;
  destinations?: DestinationService;
  installs: InstallService;
  backfill?: BackfillService;
  wakePusher(): void;
  /** The data centre of the private-app token's portal (`pat-eu1-…` → eu1), for links to HubSpot records. */
  privateAppHublet?: string | null;
}
