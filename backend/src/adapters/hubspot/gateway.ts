import type { CrmGateway, WriteResult } from '../../domain/sync/ports';
import { PROPERTY_GROUP } from '@stripe-hubspot-sync/contracts';
import { batchCreate, batchUpdate, readByEmail, readByProperty, type BatchResult } from './contacts';
import { ensurePropertyGroupAndProperties, type PropertyDefinition } from './properties';
import { createTask, tasksOnContacts } from './tasks';
import type { HubSpotPortal } from './portal';

/** The sync engine's CRM port, implemented with HubSpot's batch endpoints for one portal. */
export function hubspotGateway(portal: HubSpotPortal): CrmGateway {
  const toWrite = (r: BatchResult | undefined): WriteResult =>
    !r
      ? { ok: false, permanent: false, message: 'HubSpot returned no result for this contact', category: null }
      : r.ok
        ? { ok: true, contactId: r.id }
        : { ok: false, permanent: r.permanent, message: r.message, category: r.category, existingContactId: r.existingId };
  return {
    portalId: portal.portalId,
    async findByProperty(property, values) {
      const found = await readByProperty(portal, property, values);
      return new Map([...found].map(([value, c]) => [value, c.id]));
    },
    async findByEmail(emails) {
      const found = await readByEmail(portal, emails);
      return new Map([...found].map(([email, c]) => [email, c.id]));
    },
    async create(inputs) {
      const results = await batchCreate(portal, inputs.map((i) => ({ properties: i.properties })));
      return new Map(inputs.map((i, n) => [i.key, toWrite(results[n])]));
    },
    async update(inputs) {
      const results = await batchUpdate(portal, inputs.map((i) => ({ id: i.contactId, properties: i.properties })));
      return new Map(inputs.map((i, n) => [i.key, toWrite(results[n])]));
    },
    createTask: (contactId, task) => createTask(portal, contactId, task),
    findTasks: (contactIds) => tasksOnContacts(portal, contactIds),
    async ensureProperties(definitions) {
      const { created, failed } = await ensurePropertyGroupAndProperties(portal, PROPERTY_GROUP, definitions as PropertyDefinition[]);
      return { created, failed };
    },
  };
}
