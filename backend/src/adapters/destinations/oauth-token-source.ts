import { randomUUID } from 'node:crypto';
import type { TokenCipher } from '../hubspot/crypto';
import type { Queryable } from '../store/db';
import {
  credentialsDocument,
  parseCredentials,
  releaseRefreshLease,
  saveRefreshedCredentials,
  sealedCredentials,
  takeRefreshLease,
  type DestinationCredentials,
} from '../store/destinations-store';
import { DestinationError, type OAuthTokenSource } from '../../domain/destinations/port';
import { DestinationOAuthError, type DestinationOAuthClient } from './oauth';

/**
 * The OAuth tokens of one destination (Klaviyo, Salesforce), shared by every backend instance through its `destinations` row (sealed with
 * TOKEN_ENCRYPTION_KEY, bound to the destination id). An access token is refreshed when it expires within
 * `skewMs`, or after the destination refused it (once per refusal: a token another instance already replaced is not
 * refreshed again). Refreshes are serialised across instances by a lease on the row, and the new tokens are saved
 * only over the tokens that were refreshed (compare-and-set), so a rotated refresh token is never overwritten by a
 * concurrent refresh, and a refresh never uses a refresh token that was already rotated away.
 */

type OAuthCredentials = Extract<DestinationCredentials, { kind: 'oauth' }>;

export interface DbTokenSourceOptions {
  db: Queryable;
  cipher: TokenCipher;
  destinationId: string;
  /** The destination's OAuth client (Salesforce: the one of the login host the org was connected with). */
  client: Pick<DestinationOAuthClient, 'refresh'>;
  /** The destination's name in messages (default Klaviyo). */
  label?: string;
  /** Refresh when the access token expires within this (ms, default 60 s). */
  skewMs?: number;
  /** How long one refresh may hold the lease (ms, default 30 s; longer than the token request's timeout). */
  leaseMs?: number;
  /** How long to wait for another instance's refresh before answering `retryable` (ms, default 20 s). */
  waitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createDbTokenSource(options: DbTokenSourceOptions): OAuthTokenSource {
  const { db, cipher, destinationId: id, client } = options;
  const skewMs = options.skewMs ?? 60_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const waitMs = options.waitMs ?? 20_000;
  const label = options.label ?? 'Klaviyo';
  let cached: OAuthCredentials | null = null;

  const unreadable = () =>
    new DestinationError('connection', `The stored ${label} authorization cannot be read on this backend (was TOKEN_ENCRYPTION_KEY changed?); connect again`);

  function open(sealed: string): OAuthCredentials {
    let c: DestinationCredentials;
    try {
      c = parseCredentials(cipher.decrypt(sealed, id));
    } catch {
      throw unreadable();
    }
    if (c.kind !== 'oauth') throw unreadable();
    return c;
  }

  const expiring = (c: OAuthCredentials) => Date.parse(c.expiresAt) - Date.now() <= skewMs;

  /** The current tokens, refreshed first when `stale` says so (under the lease, compare-and-set). */
  async function tokens(stale: (c: OAuthCredentials) => boolean): Promise<string> {
    const giveUpAt = Date.now() + waitMs;
    for (;;) {
      const row = await sealedCredentials(db, id);
      if (!row) throw new DestinationError('connection', `This ${label} destination was disconnected`);
      const current = open(row.keySealed);
      if (!stale(current)) {
        cached = current;
        return current.accessToken;
      }
      if (row.leased) {
        if (Date.now() > giveUpAt) throw new DestinationError('retryable', `Another instance is still refreshing the ${label} access token`);
        await sleep(100);
        continue;
      }
      const lease = randomUUID();
      if (!(await takeRefreshLease(db, id, row.keySealed, lease, leaseMs))) continue;
      let fresh;
      try {
        fresh = await client.refresh(current.refreshToken);
      } catch (e) {
        await releaseRefreshLease(db, id, lease).catch(() => undefined);
        if (e instanceof DestinationOAuthError && e.refused) {
          throw new DestinationError('connection', `${label} refused to refresh the access token (${e.status}${e.error ? ` ${e.error}` : ''}); connect ${label} again`, {
            status: e.status,
          });
        }
        throw new DestinationError('retryable', e instanceof Error ? e.message : `${label} token refresh failed`, {
          status: e instanceof DestinationOAuthError ? e.status : null,
        });
      }
      const next: OAuthCredentials = {
        kind: 'oauth',
        accessToken: fresh.accessToken,
        refreshToken: fresh.refreshToken,
        expiresAt: fresh.expiresAt.toISOString(),
        scope: fresh.scope || current.scope,
        // The org's instance URL stays the one it was connected with (checked then); a refresh never moves it.
        ...(current.instanceUrl ? { instanceUrl: current.instanceUrl } : {}),
      };
      const saved = await saveRefreshedCredentials(db, id, lease, row.keySealed, cipher.encrypt(credentialsDocument(next), id));
      // The lease was lost (it expired, or the destination was replaced): what the row holds now decides.
      if (!saved) continue;
      cached = next;
      return next.accessToken;
    }
  }

  return {
    async accessToken() {
      if (cached && !expiring(cached)) return cached.accessToken;
      return tokens(expiring);
    },
    async refreshAfter(rejected) {
      return tokens((c) => c.accessToken === rejected || expiring(c));
    },
  };
}
