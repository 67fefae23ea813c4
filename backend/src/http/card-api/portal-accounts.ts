import type { Queryable } from '../../adapters/store/db';
import type { InstallRegistry } from '../../adapters/hubspot/installs';

/**
 * Which Stripe accounts (and modes) a HubSpot portal is connected to right now: the card of that portal reads
 * only their customers. A link to a contact of the portal is not enough — after a disconnect, or once the
 * account moved to another portal, the old portal reads nothing.
 */
export interface PortalAccount {
  /** Storage key of the Stripe account ('' for the self-hosted merchant). */
  account: string;
  livemode: boolean;
}

export type PortalAccounts = (portalId: number) => Promise<PortalAccount[]>;

/** OAuth installs only (no private-app token known): the live rows of `hubspot_installs`. */
export function storedPortalAccounts(db: Queryable): PortalAccounts {
  return async (portalId) => {
    const { rows } = await db.query<{ stripe_account_id: string; livemode: boolean }>(
      'SELECT stripe_account_id, livemode FROM hubspot_installs WHERE portal_id = $1 AND disconnected_at IS NULL',
      [portalId],
    );
    return rows.map((r) => ({ account: r.stripe_account_id, livemode: r.livemode }));
  };
}

/** OAuth installs plus the private-app token's portal (HUBSPOT_ACCESS_TOKEN serves the '' account in its modes). */
export function registryPortalAccounts(db: Queryable, installs: Pick<InstallRegistry, 'installsOfPortal' | 'resolveInstall'>): PortalAccounts {
  return async (portalId) => {
    const out: PortalAccount[] = (await installs.installsOfPortal(db, portalId)).map((i) => ({ account: i.accountId ?? '', livemode: i.livemode }));
    for (const livemode of [false, true]) {
      if (out.some((a) => a.account === '' && a.livemode === livemode)) continue;
      // Resolving the private app's portal may ask HubSpot once; an unreachable HubSpot means "not this portal".
      const install = await installs.resolveInstall(db, { accountId: null, livemode }).catch(() => null);
      if (install?.portalId === portalId) out.push({ account: '', livemode });
    }
    return out;
  };
}
