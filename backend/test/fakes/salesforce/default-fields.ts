import { defaultDestinationSettings, FIELD_CATALOG } from '@stripe-hubspot-sync/contracts';
import type { FakeSalesforce, FakeSalesforceField } from './server';

/**
 * The Contact fields of the default Salesforce settings (every enabled field under its default API name, typed as
 * the catalog types it), as an admin makes them before connecting: the org then has all the sync writes.
 */
export function addDefaultSyncFields(org: FakeSalesforce): void {
  const settings = defaultDestinationSettings('salesforce');
  for (const f of FIELD_CATALOG) {
    const s = settings.fields[f.key];
    if (!s.enabled || s.property === 'Stripe_Customer_Id__c') continue;
    const type: FakeSalesforceField['type'] =
      f.type === 'number' ? ('money' in f && f.money ? 'currency' : 'double') : f.type === 'date' ? 'date' : f.type === 'datetime' ? 'datetime' : f.type === 'bool' ? 'boolean' : 'textarea';
    org.controls.addField('Contact', { name: s.property, type, length: type === 'textarea' ? 32_768 : 0 });
  }
}
