/**
 * What the sync engine needs from a CRM, in domain terms. The HubSpot adapter implements it; the engine never
 * sees an SDK. Every method is batched (the adapter chunks to the CRM's batch size and rate budget).
 */

export type WriteResult =
  | { ok: true; contactId: string }
  | { ok: false; permanent: boolean; message: string; category: string | null; existingContactId?: string };

export interface PropertyDefinitionInput {
  name: string;
  label: string;
  description?: string;
  groupName: string;
  type: string;
  fieldType: string;
  options?: { label: string; value: string; displayOrder?: number; hidden?: boolean }[];
  hasUniqueValue?: boolean;
}

export interface ContactWrite {
  /** Our key for the result (the Stripe customer id). */
  key: string;
  properties: Record<string, string>;
}

export interface CrmGateway {
  readonly portalId: number;
  /** Contacts whose unique customer-id property holds one of `values`: value → contact id. */
  findByProperty(property: string, values: string[]): Promise<Map<string, string>>;
  /** Contacts with one of these emails (case-insensitive): lower-cased email → contact id. */
  findByEmail(emails: string[]): Promise<Map<string, string>>;
  create(inputs: ContactWrite[]): Promise<Map<string, WriteResult>>;
  update(inputs: (ContactWrite & { contactId: string })[]): Promise<Map<string, WriteResult>>;
  createTask(contactId: string, task: { subject: string; body: string; dueAt: Date }): Promise<void>;
  /** Creates the missing ones; answers those it created and those the CRM refused to create. */
  ensureProperties(
    definitions: PropertyDefinitionInput[],
  ): Promise<{ created: string[]; failed: { name: string; category: string | null; message: string }[] }>;
}

/** The CRM connection of one Stripe account in one mode, or why there is none. */
export type GatewayLookup = { gateway: CrmGateway } | { none: string };
