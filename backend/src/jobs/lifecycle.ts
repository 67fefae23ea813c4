import type { Db } from '../adapters/store/db';
import { deleteAccountData } from '../adapters/store/data-deletion';
import { markEvent } from '../adapters/store/event-outcomes';
import { installedSince, recordInstall } from '../adapters/store/tombstones';
import type { InstallRegistry } from '../adapters/hubspot/installs';
import type { Logger } from '../logger';
import type { BackfillMetrics } from './backfill/metrics';
import type { StoredEvent } from './types';

/**
 * The Stripe App's install lifecycle, as handlers for `createApplyProcessor({ lifecycle })`. They run as the
 * event's job, right after the webhook is stored.
 *
 * `account.application.deauthorized` (the merchant uninstalled the app from that account, in that mode):
 * revoke and forget the HubSpot connection, then delete everything of the account in that mode in one
 * transaction (see `deleteAccountData`), leaving a tombstone: nothing of that account created up to the uninstall
 * is stored again (late retries, batches in flight elsewhere, backfills, refreshes). Syncing stops with it: no
 * settings, no customers to write, no portal. An uninstall older than an install already seen (delivered out of
 * order) deletes nothing.
 * `account.application.authorized` lifts the tombstone when it is newer than the uninstall; otherwise it is only
 * recorded (the merchant connects HubSpot from the app's settings).
 */

export interface LifecycleDeps {
  db: Db;
  logger: Logger;
  /** To revoke the HubSpot refresh token before the row is deleted (best effort). */
  installs?: Pick<InstallRegistry, 'disconnect'>;
  metrics?: Pick<BackfillMetrics, 'accountDeletions'>;
}

export type LifecycleHandlers = Record<string, (event: StoredEvent) => Promise<void>>;

export function createLifecycleHandlers(deps: LifecycleDeps): LifecycleHandlers {
  const { db, logger } = deps;
  return {
    'account.application.authorized': async (event) => {
      const lifted = event.accountId ? await recordInstall(db, { account: event.accountId, livemode: event.livemode }, event.created) : false;
      if (lifted) logger.info({ account: event.accountId, mode: event.livemode ? 'live' : 'test' }, 'app installed again: uninstall tombstone lifted');
      await markEvent(db, event.id, 'processed', lifted ? 'The app was installed again on this account' : 'The app was installed on this account');
    },
    'account.application.deauthorized': async (event) => {
      const account = event.accountId;
      if (!account) {
        // Only connected accounts install the app: without `account` it names the platform itself.
        await markEvent(db, event.id, 'ignored', 'An uninstall without an account names no installing account');
        return;
      }
      const mode = event.livemode ? 'live' : 'test';
      const stale = 'The app was installed again after this uninstall: nothing was deleted';
      // Delivered after a newer install: the connection and the data belong to that install.
      if (await installedSince(db, { account, livemode: event.livemode }, event.created)) return markEvent(db, event.id, 'skipped', stale);
      await deps.installs?.disconnect(db, { accountId: account, livemode: event.livemode }, { revoke: true }).catch((err: unknown) => {
        logger.warn({ err, account, mode }, 'could not revoke the HubSpot connection; deleting it anyway');
      });
      const counts = await deleteAccountData(db, account, event.livemode, { keepEventId: event.id, uninstall: { created: event.created } });
      if (!counts) return markEvent(db, event.id, 'skipped', stale);
      deps.metrics?.accountDeletions.inc();
      logger.info({ account, mode, deleted: counts }, 'app uninstalled: account data deleted');
      await markEvent(db, event.id, 'processed', `The app was uninstalled: this account's ${mode} data was deleted`);
    },
  };
}
