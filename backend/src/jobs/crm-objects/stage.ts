import type { Logger } from 'pino';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';
import type { Db } from '../../adapters/store/db';
import type { HubSpotPortal } from '../../adapters/hubspot/portal';
import type { CrmObjectStage, ObjectOutcome, WrittenContact } from '../../domain/sync/ports';

/**
 * The records that hang off a customer's contact, beyond its properties: companies, a deal per subscription,
 * tickets on failed payments, revenue movements on the timeline. Each is one writer; the stage runs the enabled
 * ones in order over the customers of one push pass (companies first: the others associate with them).
 */

/** What a writer works with for one pass of one account, mode and portal. */
export interface ObjectWriterContext {
  db: Db;
  logger: Logger;
  portal: HubSpotPortal;
  /** How the portal is connected: timeline events need the marketplace (OAuth) app; private apps get notes. */
  authKind: 'oauth' | 'private_app';
  account: string;
  livemode: boolean;
  settings: SyncSettings;
  /** The HubSpot company of each customer (customer id → company id), filled by the companies writer. */
  companyOf: Map<string, string>;
  /** Our timeline event template, when this connection can send timeline events (OAuth with `timeline`); else notes. */
  timelineTemplateId?: string | null;
}

export interface CrmObjectWriter {
  readonly name: string;
  enabled(settings: SyncSettings): boolean;
  /** Writes the records of these customers in batches; answers the customers it failed for (absent: written). */
  write(ctx: ObjectWriterContext, contacts: WrittenContact[]): Promise<Map<string, ObjectOutcome>>;
}

export interface ObjectStageDeps {
  db: Db;
  logger: Logger;
  portal: HubSpotPortal;
  authKind: 'oauth' | 'private_app';
  writers: readonly CrmObjectWriter[];
  timelineTemplateId?: string | null;
}

export function createObjectStage(deps: ObjectStageDeps): CrmObjectStage {
  return {
    async write({ account, livemode, settings, contacts }) {
      const ctx: ObjectWriterContext = { ...deps, account, livemode, settings, companyOf: new Map() };
      const outcomes = new Map<string, ObjectOutcome>();
      for (const writer of deps.writers) {
        if (!writer.enabled(settings) || contacts.length === 0) continue;
        for (const [customerId, o] of await writer.write(ctx, contacts)) {
          outcomes.set(customerId, combine(outcomes.get(customerId), o, writer.name));
        }
      }
      return outcomes;
    },
  };
}

/** A failure that may pass outweighs one that will not (the customer is tried again; the refusal recurs then). */
function combine(a: ObjectOutcome | undefined, b: ObjectOutcome, writer: string): ObjectOutcome {
  const labelled: ObjectOutcome = b.ok ? b : { ...b, message: `${writer}: ${b.message}` };
  if (!a || a.ok) return labelled;
  if (labelled.ok) return a;
  return {
    ok: false,
    permanent: a.permanent && labelled.permanent,
    message: `${a.message}; ${labelled.message}`,
    category: a.permanent && !labelled.permanent ? labelled.category : a.category,
  };
}
