import {
  DESTINATION_CONNECT_METHODS,
  DESTINATION_LABELS,
  INTERCOM_REGION_LABELS,
  type SalesforceEnvironment,
  type CustomerDestinationState,
  type DestinationCounts,
  type DestinationHealth,
  type DestinationKind,
  type DestinationSummary,
  type OnCustomerDeleted,
} from '../../data/contracts';

/** How the settings, the activity drawer and the customer view name destinations and their states. */

type BadgeType = 'neutral' | 'urgent' | 'warning' | 'negative' | 'positive' | 'info';

/** What the destination calls a customer's record. */
export const RECORD_NOUN: Record<DestinationKind, string> = { klaviyo: 'profile', loops: 'contact', intercom: 'contact', salesforce: 'contact' };

/** What the destination calls the secret the merchant gives: Intercom issues access tokens, the others API keys. */
export const KEY_NOUN: Record<DestinationKind, string> = { klaviyo: 'API key', loops: 'API key', intercom: 'access token', salesforce: 'connection' };

/** Salesforce's login environments, short (the add form shows SALESFORCE_ENVIRONMENT_LABELS with their hosts). */
export const SALESFORCE_ENVIRONMENT_SHORT: Record<SalesforceEnvironment, string> = { production: 'Production', sandbox: 'Sandbox' };

/** The kind's label with where it lives: "Intercom · Europe region", "Salesforce · Sandbox". */
export function kindText(d: Pick<DestinationSummary, 'kind' | 'region' | 'environment'>): string {
  const label = DESTINATION_LABELS[d.kind];
  if (d.kind === 'intercom' && d.region) return `${label} · ${INTERCOM_REGION_LABELS[d.region]} region`;
  if (d.kind === 'salesforce' && d.environment) return `${label} · ${SALESFORCE_ENVIRONMENT_SHORT[d.environment]}`;
  return label;
}

/** Connected with OAuth tokens ("Connect with …"), not a key: said so, or a kind that has no key (Salesforce). */
export function isOAuthConnected(d: Pick<DestinationSummary, 'kind' | 'auth'>): boolean {
  return d.auth === 'oauth' || !DESTINATION_CONNECT_METHODS[d.kind].includes('api_key');
}

/** How it is connected, for the list: "connected with Salesforce" or "API key ending in k9Qa". */
export function credentialText(d: Pick<DestinationSummary, 'kind' | 'auth' | 'keyHint'>): string {
  return isOAuthConnected(d) ? `connected with ${DESTINATION_LABELS[d.kind]}` : keyHintText(d.kind, d.keyHint);
}

/** "Acme (Klaviyo)" already names its kind; a bare label gets it added. */
export function destinationName(d: Pick<DestinationSummary, 'kind' | 'label'>): string {
  const kind = DESTINATION_LABELS[d.kind];
  return d.label === kind || d.label.includes(kind) ? d.label : `${d.label} (${kind})`;
}

/** `oauth`: the destination refuses our access (a revoked or expired authorization), not a key. */
export function healthBadge(health: DestinationHealth, oauth = false): { label: string; type: BadgeType } {
  if (health.state === 'broken') return { label: oauth ? 'Access refused' : 'Key refused', type: 'negative' };
  if (health.state === 'unknown') return { label: 'Not checked yet', type: 'neutral' };
  return { label: 'Connected', type: 'positive' };
}

export function countsText(c: DestinationCounts): string {
  return `${c.synced} synced · ${c.pending} pending · ${c.failed} failed`;
}

export function keyHintText(kind: DestinationKind, keyHint: string): string {
  return `${KEY_NOUN[kind]} ending in ${keyHint}`;
}

export function deletionChoiceLabel(kind: DestinationKind, choice: OnCustomerDeleted): string {
  const noun = RECORD_NOUN[kind];
  switch (choice) {
    case 'keep':
      return `Keep the ${noun} as it is`;
    case 'unsubscribe':
      return `Unsubscribe the ${noun}`;
    case 'delete':
      return `Delete the ${noun}`;
  }
}

export const CUSTOMER_STATE: Record<CustomerDestinationState['state'], { label: string; type: BadgeType }> = {
  synced: { label: 'Synced', type: 'positive' },
  pending: { label: 'Sync pending', type: 'info' },
  failed: { label: 'Sync failed', type: 'negative' },
  not_synced: { label: 'Not synced yet', type: 'neutral' },
};
