import { customerDestinationStates } from '../../adapters/store/destinations-store';
import type { Request, Response } from 'express';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps } from './services';
import { loadSettings } from '../../adapters/store/settings-store';
import { markForPush } from '../../adapters/store/sync-store';
import { FIELD_KEYS } from '@stripe-hubspot-sync/contracts';
import type { CustomerStatus, CustomerSyncResponse, CustomerSyncState } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';
import { crmFactsSql, parseCrmFacts } from '../../adapters/store/customer-crm-read';
import { customerCrmRecords } from '../../domain/crm/customer-records';
import { hubletOfHubDomain, hubspotAppOrigin, hubspotRecordUrl } from '../../domain/crm/hubspot-links';

const CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,64}$/;

/** The contact's page in HubSpot's app at `origin` (hubspot-links.ts: app.hubspot.com unless the portal is elsewhere). */
export function hubspotContactUrl(portalId: number, contactId: string, origin = hubspotAppOrigin(null)): string {
  return hubspotRecordUrl(origin, portalId, 'contact', contactId) ?? `${origin}/contacts/${portalId}`;
}

/** The customer's subscriptions, deals and company in the contact's portal, and its latest movements. */
const CRM_FACTS = crmFactsSql({ account: 'c.account_key', livemode: 'c.livemode', customer: 'c.customer_id', portal: 'l.portal_id' });

/**
 * GET /customers/:id?mode= — the linked contact, sync state and the facts HubSpot last received; every subscription
 * with its HubSpot deal, the HubSpot company and the latest revenue movements.
 */
export function getCustomer(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const customerId = String(req.params.id);
    if (!CUSTOMER_ID.test(customerId)) return sendError(res, 400, 'bad_request', 'Not a Stripe customer id');
    const account = tenantOf(res).accountKey;
    const livemode = mode === 'live';
    const { rows } = await deps.db.query<{
      status: CustomerStatus | null;
      sync_state: string;
      sync_reason: string | null;
      synced_properties: Record<string, string> | null;
      last_synced_at: Date | null;
      version: string;
      synced_version: string;
      portal_id: string | null;
      contact_id: string | null;
      hub_domain: string | null;
      crm: string;
    }>(
      `SELECT c.status, c.sync_state, c.sync_reason, c.synced_properties, c.last_synced_at, c.version, c.synced_version,
              l.portal_id, l.contact_id,
              (SELECT i.hub_domain FROM hubspot_installs i
                WHERE i.stripe_account_id = c.account_key AND i.livemode = c.livemode AND i.portal_id = l.portal_id) AS hub_domain,
              ${CRM_FACTS} AS crm
         FROM customers c LEFT JOIN contact_links l
           ON l.account_key = c.account_key AND l.livemode = c.livemode AND l.customer_id = c.customer_id
        WHERE c.account_key = $1 AND c.livemode = $2 AND c.customer_id = $3`,
      [account, livemode, customerId],
    );
    const row = rows[0];
    const { settings } = await loadSettings(deps.db, account, livemode);
    let state: CustomerSyncState = 'not_synced';
    if (row?.status) {
      state = Number(row.version) > Number(row.synced_version) ? 'pending' : (row.sync_state as CustomerSyncState);
    }
    // The self-hosted private-app token's portal (account ''): its token names the data centre; else the install's.
    const origin = hubspotAppOrigin(account === '' ? deps.privateAppHublet : hubletOfHubDomain(row?.hub_domain));
    const portalId = row?.portal_id ? Number(row.portal_id) : null;
    const records = customerCrmRecords(parseCrmFacts(row?.crm), { origin, portalId, currency: row?.status?.currency ?? null });
    const body: CustomerSyncResponse = {
      mode,
      customerId,
      state,
      reason: row?.sync_reason ?? null,
      contact:
        row?.contact_id && portalId !== null
          ? { id: row.contact_id, portalId, url: hubspotContactUrl(portalId, row.contact_id, origin) }
          : null,
      status: row?.status
        ? { ...row.status, lastSyncedAt: row.last_synced_at ? new Date(row.last_synced_at).toISOString() : null }
        : null,
      syncedFields: FIELD_KEYS.filter((k) => settings.fields[k].enabled).map((key) => ({
        key,
        property: settings.fields[key].property,
        value: row?.synced_properties?.[settings.fields[key].property] ?? null,
      })),
      ...records,
      destinations: await customerDestinationStates(deps.db, account, livemode, customerId),
    };
    res.json(body);
  };
}

/** POST /customers/:id/sync — write this customer's full state to HubSpot again. */
export function postCustomerSync(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const customerId = String(req.params.id);
    if (!CUSTOMER_ID.test(customerId)) return sendError(res, 400, 'bad_request', 'Not a Stripe customer id');
    const queued = await markForPush(deps.db, { account: tenantOf(res).accountKey, livemode: mode === 'live', customerId });
    if (!queued) return sendError(res, 404, 'not_found', 'No synced data for this customer yet');
    deps.wakePusher();
    res.json({ queued });
  };
}
