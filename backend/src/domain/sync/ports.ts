import type { CustomerStatus, SyncSettings } from '@stripe-hubspot-sync/contracts';

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
  /** A task on the contact. Sent once: when the answer may have been lost it throws (see `findTasks`). */
  createTask(contactId: string, task: { subject: string; body: string; dueAt: Date }): Promise<{ id: string }>;
  /** The tasks on these contacts (contact id → tasks), to find one whose create's answer was lost. */
  findTasks(contactIds: string[]): Promise<Map<string, { id: string; subject: string | null; dueAtMs: number | null }[]>>;
  /** Creates the missing ones; answers those it created and those the CRM refused to create. */
  ensureProperties(
    definitions: PropertyDefinitionInput[],
  ): Promise<{ created: string[]; failed: { name: string; category: string | null; message: string }[] }>;
}

/** A customer whose contact was just written, for the records that hang off the contact. */
export interface WrittenContact {
  customerId: string;
  contactId: string;
  status: CustomerStatus;
  /** What the contact held from us before this write (null: never written). */
  syncedStatus: CustomerStatus | null;
}

/** What became of a customer's CRM records beyond its contact (companies, deals, tickets, timeline). */
export type ObjectOutcome = { ok: true } | { ok: false; permanent: boolean; message: string; category: string | null };

/**
 * Writes the records that hang off just-written contacts — companies, a deal per subscription, tickets, timeline
 * events — batched across the customers of one pass. Answers the customers something failed for (absent: all
 * written). Throws only when the whole connection or portal fails (the pusher then retries the pass's customers).
 */
export interface CrmObjectStage {
  write(input: { account: string; livemode: boolean; settings: SyncSettings; contacts: WrittenContact[] }): Promise<Map<string, ObjectOutcome>>;
}

/** The CRM connection of one Stripe account in one mode, or why there is none. */
export type GatewayLookup = { gateway: CrmGateway; objects?: CrmObjectStage } | { none: string };
