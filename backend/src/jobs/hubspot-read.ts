import { MAX_BATCH_INPUTS } from '../adapters/hubspot/batch';
import type { HubSpotPortal } from '../adapters/hubspot/portal';
import type { ContactReader } from './drift-check';

/**
 * The drift check's read of contacts by id, with HubSpot's batch read (≤ 100 ids a call) through the portal's
 * safe caller (rate budget, retries, token refresh). Ids HubSpot does not know (207 OBJECT_NOT_FOUND) are absent.
 * Build the portal with `{ share: 0.5 }` so the check never takes live sync's budget.
 */
export function hubspotContactReader(portal: HubSpotPortal): ContactReader {
  return {
    async readContacts(contactIds, properties) {
      const out = new Map<string, Record<string, string | null>>();
      const ids = [...new Set(contactIds)];
      for (let i = 0; i < ids.length; i += MAX_BATCH_INPUTS) {
        const chunk = ids.slice(i, i + MAX_BATCH_INPUTS);
        const answer = await portal.call('crm', 'contacts.batch.read', (c, sdk) =>
          c.crm.contacts.batchApi.read({ inputs: chunk.map((id) => ({ id })), properties, propertiesWithHistory: [] }, false, sdk),
        );
        for (const r of answer.results) out.set(r.id, { ...r.properties });
      }
      return out;
    },
  };
}
