import type { Db } from '../../adapters/store/db';
import type { HubSpotAdapter } from '../../adapters/hubspot/adapter';
import type { Install, InstallRegistry } from '../../adapters/hubspot/installs';
import type { HubSpotPortal, PortalCallDefaults } from '../../adapters/hubspot/portal';
import type { PortalAccess } from './portal-accounts';

/**
 * What a HubSpot portal is connected to right now, and a client to call HubSpot as that connection. Used by the
 * card API (which Stripe accounts a portal reads; the contact's email for a Stripe lookup) and by the HubSpot
 * webhook (which portals a delivery may speak for; whether a deleted contact is really gone).
 */
export interface PortalInstalls extends PortalAccess {
  /** The live installs of the portal: OAuth installs, and the private-app token (account null) when it is this portal. */
  installsOf(portalId: number): Promise<Install[]>;
  /** A HubSpot client acting for the install's portal (rate budget, retries, token refresh). */
  client(install: Install, defaults?: PortalCallDefaults): HubSpotPortal;
}

/** PortalInstalls from the install registry and the HubSpot adapter of the running engine. */
export function registryPortalInstalls(
  db: Db,
  installs: Pick<InstallRegistry, 'resolveInstall' | 'installsOfPortal' | 'portalAuth'>,
  hubspot: Pick<HubSpotAdapter, 'portal'>,
): PortalInstalls {
  const privateInstalls = async (portalId: number): Promise<Install[]> => {
    const found: Install[] = [];
    for (const livemode of [false, true]) {
      // Resolving the private app's portal may ask HubSpot once; an unreachable HubSpot means "not this portal".
      const install = await installs.resolveInstall(db, { accountId: null, livemode }).catch(() => null);
      if (install?.portalId === portalId) found.push(install);
    }
    return found;
  };
  return {
    async privateAppModes(portalId) {
      return (await privateInstalls(portalId)).map((i) => i.livemode);
    },
    async installsOf(portalId) {
      if (!Number.isSafeInteger(portalId)) return [];
      return [...(await installs.installsOfPortal(db, portalId)), ...(await privateInstalls(portalId))];
    },
    client: (install, defaults) => hubspot.portal(installs.portalAuth(db, install), defaults),
  };
}
