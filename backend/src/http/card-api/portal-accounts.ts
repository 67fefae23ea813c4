import type { Db, Queryable } from '../../adapters/store/db';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { crmFactsSql, parseCrmFacts } from '../../adapters/store/customer-crm-read';
import type { StoredCrmFacts } from '../../domain/crm/customer-records';
import { hubletOfHubDomain } from '../../domain/crm/hubspot-links';

/**
 * Which customers a HubSpot portal may read on a contact: those linked to the contact whose Stripe account (and
 * mode) is connected to that portal right now — through an OAuth install, or the self-hosted private-app token
 * (account ''). A link alone is not enough: after a disconnect, or once the account moved to another portal, the
 * old portal reads nothing.
 */

export interface PortalAccess {
  /** The modes (livemode values) in which the private-app token serves account '' in this portal. */
  privateAppModes(portalId: number): Promise<boolean[]>;
}

/** The CRM facts of the link's customer in the link's portal (folded into the card's one statement). */
const CRM_FACTS = crmFactsSql({ account: 'l.account_key', livemode: 'l.livemode', customer: 'l.customer_id', portal: 'l.portal_id' });

/** No private-app token: OAuth installs only. */
export const oauthOnlyAccess: PortalAccess = { privateAppModes: async () => [] };

export interface LinkedCustomer {
  account: string;
  livemode: boolean;
  customerId: string;
  /** The read model (null while we know nothing of the customer). */
  status: CustomerStatus | null;
  /** Its subscriptions with their deals in this portal, its company there and its latest movements. */
  crm: StoredCrmFacts;
}

/**
 * Every customer linked to the contact in that portal (whatever its connection), live mode first, oldest first.
 * The card's hot path: one prepared statement of index lookups (the link, the customer's row, and its CRM facts:
 * customer-crm-read.ts), the status and facts as text parsed here, the few rows ordered here.
 */
async function linksOfContact(db: Db, portalId: number, contactId: string): Promise<LinkedCustomer[]> {
  if (!Number.isSafeInteger(portalId)) return [];
  const { rows } = await db.queryPrepared<{
    account_key: string;
    livemode: boolean;
    customer_id: string;
    linked_ms: string | number;
    customer: string | null;
    crm: string;
  }>(
    'card_links_of_contact',
    `SELECT l.account_key, l.livemode, l.customer_id, (extract(epoch FROM l.linked_at) * 1000)::bigint AS linked_ms,
            (SELECT json_build_array(c.status, c.last_synced_at)::text FROM customers c
              WHERE c.account_key = l.account_key AND c.livemode = l.livemode AND c.customer_id = l.customer_id) AS customer,
            ${CRM_FACTS} AS crm
       FROM contact_links l
      WHERE l.portal_id = $1::bigint AND l.contact_id = $2::text`,
    [portalId, contactId],
  );
  return rows
    .sort((a, b) => Number(b.livemode) - Number(a.livemode) || Number(a.linked_ms) - Number(b.linked_ms))
    .map((r) => {
      const [status, lastSyncedAt] = r.customer ? (JSON.parse(r.customer) as [CustomerStatus | null, string | null]) : [null, null];
      return {
        account: r.account_key,
        livemode: r.livemode,
        customerId: r.customer_id,
        status: status ? { ...status, lastSyncedAt: lastSyncedAt ? new Date(lastSyncedAt).toISOString() : null } : null,
        crm: parseCrmFacts(r.crm),
      };
    });
}

async function oauthAccountsOfPortal(db: Queryable, portalId: number): Promise<{ account: string; livemode: boolean; hubDomain: string | null }[]> {
  const { rows } = await db.query<{ stripe_account_id: string; livemode: boolean; hub_domain: string | null }>(
    'SELECT stripe_account_id, livemode, hub_domain FROM hubspot_installs WHERE portal_id = $1 AND disconnected_at IS NULL',
    [portalId],
  );
  return rows.map((r) => ({ account: r.stripe_account_id, livemode: r.livemode, hubDomain: r.hub_domain }));
}

export interface ReadableCustomers {
  /** Whether any Stripe account is connected to the portal (tells "not connected" from "no customer"). */
  connected: boolean;
  /** The linked customers this portal may read. */
  links: LinkedCustomer[];
  /** The portal asked for (the card's). */
  portalId: number;
  /** The data centre the portal is in (`na1`, `eu1` …), when what we hold of its connection says; links use it. */
  hublet: string | null;
}

/**
 * The customers linked to the contact that this portal may read now. The self-hosted case (private-app token)
 * needs one query; links of OAuth-connected accounts add one query for the portal's installs.
 */
export async function readableCustomers(
  db: Db,
  access: PortalAccess,
  portalId: number,
  contactId: string,
  opts: { privateAppHublet?: string | null } = {},
): Promise<ReadableCustomers> {
  const privateModes = await access.privateAppModes(portalId);
  const all = await linksOfContact(db, portalId, contactId);
  const viaPrivateApp = (l: LinkedCustomer) => l.account === '' && privateModes.includes(l.livemode);
  const needInstalls = all.some((l) => !viaPrivateApp(l)) || (all.length === 0 && privateModes.length === 0);
  const installs = needInstalls ? await oauthAccountsOfPortal(db, portalId) : [];
  const links = all.filter((l) => viaPrivateApp(l) || installs.some((a) => a.account === l.account && a.livemode === l.livemode));
  const hublet = (privateModes.length > 0 ? opts.privateAppHublet : null) ?? installs.map((i) => hubletOfHubDomain(i.hubDomain)).find((h) => h) ?? null;
  return { connected: privateModes.length > 0 || installs.length > 0, links, portalId, hublet };
}
