/**
 * End-to-end latency from the fake HubSpot's request log: for each sent event, the first contact write for
 * its customer, at or after the send, that carries the event's new value — or a newer event's value of the
 * same property (the pusher folded both into one write: the event was delivered by that write). Pure.
 */
import type { LoggedCall } from './hubspot-calls';

export interface SentChange {
  customerId: string;
  property: string;
  value: string;
  /** Epoch ms the event was sent. */
  sentAt: number;
}

export interface ContactWrite {
  /** Epoch ms HubSpot received the write. */
  at: number;
  properties: Record<string, string>;
}

type LoggedWrite = LoggedCall & { body: unknown };

interface Input {
  id?: string;
  idProperty?: string;
  properties?: Record<string, string>;
}

/**
 * Every successful contact write of `portalId` per Stripe customer, in arrival order. Updates name the contact
 * id: `customerOfContact` maps it back (e.g. from the portal's final contacts).
 */
export function contactWritesByCustomer(
  log: readonly LoggedWrite[],
  portalId: number,
  customerOfContact: (contactId: string) => string | undefined,
  customerIdProperty = 'stripe_customer_id',
): Map<string, ContactWrite[]> {
  const out = new Map<string, ContactWrite[]>();
  const add = (customerId: string | undefined, at: number, properties: Record<string, string>) => {
    if (!customerId) return;
    const list = out.get(customerId) ?? [];
    list.push({ at, properties });
    out.set(customerId, list);
  };
  for (const r of log) {
    if (r.portalId !== portalId || r.status < 200 || r.status >= 300) continue;
    const m = /^\/crm\/v3\/objects\/contacts(?:\/batch\/(create|update|upsert)|\/([^/]+))?$/.exec(r.path);
    if (!m || r.method === 'GET') continue;
    const inputs: Input[] = m[1] ? ((r.body as { inputs?: Input[] } | undefined)?.inputs ?? []) : [{ ...(r.body as Input), id: m[2] }];
    for (const input of inputs) {
      const properties = input.properties ?? {};
      let customerId: string | undefined = properties[customerIdProperty];
      if (!customerId && input.id) customerId = input.idProperty === customerIdProperty ? input.id : customerOfContact(input.id);
      add(customerId, r.at, properties);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.at - b.at);
  return out;
}

export interface LatencyMatch {
  /** Milliseconds from send to the write, per matched event (send order). */
  latencies: number[];
  /** Events whose own value was never written but a newer event's was (folded into one write). */
  superseded: number;
  /** Events with no write carrying their value or a newer one. */
  unmatched: number;
}

export function matchLatencies(sent: readonly SentChange[], writes: Map<string, ContactWrite[]>): LatencyMatch {
  const ordered = [...sent].sort((a, b) => a.sentAt - b.sentAt);
  const laterValues = new Map<SentChange, Set<string>>();
  const seen = new Map<string, Set<string>>();
  for (let i = ordered.length - 1; i >= 0; i--) {
    const e = ordered[i];
    const key = `${e.customerId}|${e.property}`;
    const later = seen.get(key) ?? new Set<string>();
    laterValues.set(e, new Set(later));
    later.add(e.value);
    seen.set(key, later);
  }
  const result: LatencyMatch = { latencies: [], superseded: 0, unmatched: 0 };
  for (const e of ordered) {
    const later = laterValues.get(e) as Set<string>;
    const w = (writes.get(e.customerId) ?? []).find(
      (x) => x.at >= e.sentAt && x.properties[e.property] !== undefined && (x.properties[e.property] === e.value || later.has(x.properties[e.property])),
    );
    if (!w) {
      result.unmatched += 1;
      continue;
    }
    if (w.properties[e.property] !== e.value) result.superseded += 1;
    result.latencies.push(w.at - e.sentAt);
  }
  return result;
}
