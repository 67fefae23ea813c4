import type { Request, Response } from 'express';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps } from './services';
import { loadSettings } from '../../adapters/store/settings-store';
import { markForPush } from '../../adapters/store/sync-store';
import { FIELD_KEYS } from '@stripe-hubspot-sync/contracts';
import type { CustomerStatus, CustomerSyncResponse, CustomerSyncState } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';

const CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,64}$/;

export function hubspotContactUrl(portalId: number, contactId: string): string {
  return `https://app.hubspot.com/contacts/${portalId}/record/0-1/${contactId}`;
}

/** GET /customers/:id?mode= — the linked contact, sync state and the facts HubSpot last received. */
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
    }>(
      `SELECT c.status, c.sync_state, c.sync_reason, c.synced_properties, c.last_synced_at, c.version, c.synced_version,
              l.portal_id, l.contact_id
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
    const body: CustomerSyncResponse = {
      mode,
      customerId,
      state,
      reason: row?.sync_reason ?? null,
      contact:
        row?.contact_id && row.portal_id
          ? { id: row.contact_id, portalId: Number(row.portal_id), url: hubspotContactUrl(Number(row.portal_id), row.contact_id) }
          : null,
      status: row?.status
        ? { ...row.status, lastSyncedAt: row.last_synced_at ? new Date(row.last_synced_at).toISOString() : null }
        : null,
      syncedFields: FIELD_KEYS.filter((k) => settings.fields[k].enabled).map((key) => ({
        key,
        property: settings.fields[key].property,
        value: row?.synced_properties?.[settings.fields[key].property] ?? null,
      })),
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
