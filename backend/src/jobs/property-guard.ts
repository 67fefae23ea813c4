import { createHash } from 'node:crypto';
import type { Db } from '../adapters/store/db';
import { propertyProblems, savePropertyProblems } from '../adapters/store/connection-health';
import { owePropertyResends } from '../adapters/store/push-store';
import { MISSING_PROPERTY, PermanentHubSpotError, missingProperties } from '../adapters/hubspot/errors';
import type { ContactWrite, CrmGateway, PropertyDefinitionInput, WriteResult } from '../domain/sync/ports';

/**
 * Our contact properties, kept in place while a pusher pass writes. They are provisioned once per portal and
 * property set, checked again at most every `recheckMs` (a HubSpot user may delete one), and re-provisioned at
 * once when HubSpot answers a write or a lookup with PROPERTY_DOESNT_EXIST — then the refused records are sent
 * again. A property HubSpot will not create is recorded (`hubspot_property_problems`, shown with the connection)
 * and left out of writes, so it never stops the other properties from landing. Properties created again after a
 * deletion lost their values in HubSpot: `recreated` lists them, and they are recorded as owed
 * (`property_resends`), so the pass — or, if it stops first, a later one — has them written again.
 */

export interface PropertyGuard {
  /** The gateway to write through (same port; lookups and writes guarded). */
  readonly gateway: CrmGateway;
  /** Properties created in this pass (a first provisioning, again after a deletion, or at last after a refusal). */
  readonly recreated: string[];
}

/** Per guarded gateway: every property it left out of a write in this pass. */
const omittedBy = new WeakMap<CrmGateway, Set<string>>();

/**
 * What to record as written: `properties` without any the guard left out of a write in this pass (recorded as
 * unsynced, they are sent again once the property exists).
 */
export function writtenProperties(gw: CrmGateway, properties: Record<string, string>): Record<string, string> {
  const omitted = omittedBy.get(gw);
  if (!omitted || omitted.size === 0) return properties;
  return Object.fromEntries(Object.entries(properties).filter(([name]) => !omitted.has(name)));
}

export async function guardProperties(
  db: Db,
  inner: CrmGateway,
  definitions: PropertyDefinitionInput[],
  opts: { recheckMs: number; /** The pass's claim token (what it holds its customers with). */ passToken: string },
): Promise<PropertyGuard> {
  const portalId = inner.portalId;
  const hash = createHash('sha256').update(JSON.stringify(definitions)).digest('hex').slice(0, 32);
  const names = definitions.map((d) => d.name);
  const recreated: string[] = [];
  const omitted = new Set<string>();
  let unavailable = new Set<string>();
  // At most one provisioning a pass, shared by every write and lookup that needs it (they run concurrently: a
  // pass's creates and updates go out together). `settled` once it is done: a refusal of a request sent after that
  // is final for this pass.
  let provisioning: Promise<void> | null = null;
  let settled = false;

  const provisionNow = async () => {
    const report = await inner.ensureProperties(definitions);
    await savePropertyProblems(db, portalId, names, report.failed);
    const { rows: at } = await db.query<{ provisioned_at: Date | string }>(
      `INSERT INTO portal_provisioning (portal_id, definitions_hash) VALUES ($1, $2)
       ON CONFLICT (portal_id, definitions_hash) DO UPDATE SET provisioned_at = now()
       RETURNING provisioned_at`,
      [portalId, hash],
    );
    unavailable = new Set(report.failed.map((f) => f.name));
    // Owed from now on (contacts linked before then lack their values), so that a pass that stops before it queues
    // the rewrite leaves it to the next one.
    await owePropertyResends(db, portalId, report.created, new Date(at[0]!.provisioned_at), opts.passToken);
    recreated.push(...report.created.filter((n) => !recreated.includes(n)));
  };
  const provision = () =>
    (provisioning ??= provisionNow().finally(() => {
      settled = true;
    }));

  const { rows } = await db.query<{ fresh: boolean }>(
    `SELECT provisioned_at > now() - make_interval(secs => $3::double precision / 1000) AS fresh
       FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2`,
    [portalId, hash, opts.recheckMs],
  );
  if (rows[0]?.fresh) {
    unavailable = new Set((await propertyProblems(db, portalId)).map((p) => p.property).filter((n) => names.includes(n)));
  } else {
    await provision();
  }

  const strip = <W extends ContactWrite>(w: W): W => {
    const left = Object.keys(w.properties).filter((p) => unavailable.has(p));
    if (left.length === 0) return w;
    left.forEach((p) => omitted.add(p));
    return { ...w, properties: Object.fromEntries(Object.entries(w.properties).filter(([p]) => !unavailable.has(p))) };
  };

  /**
   * Writes; when HubSpot says a property is missing, provisions (once a pass) and sends the refused ones again —
   * unless the provisioning was already done when they were sent.
   */
  const write = async <W extends ContactWrite>(inputs: W[], send: (ws: W[]) => Promise<Map<string, WriteResult>>) => {
    const sentAfterProvisioning = settled;
    const results = await send(inputs.map(strip));
    const refused = inputs.filter((w) => isMissing(results.get(w.key)));
    if (refused.length === 0 || sentAfterProvisioning) return results;
    await provision();
    for (const [key, r] of await send(refused.map(strip))) results.set(key, r);
    return results;
  };

  const gateway: CrmGateway = {
    portalId,
    async findByProperty(property, values) {
      if (unavailable.has(property)) return new Map();
      const sentAfterProvisioning = settled;
      try {
        return await inner.findByProperty(property, values);
      } catch (err) {
        if (!(err instanceof PermanentHubSpotError) || !missingProperties(err).missing || sentAfterProvisioning) throw err;
        await provision();
        // Nobody holds a value of a property that does not exist.
        return unavailable.has(property) ? new Map() : inner.findByProperty(property, values);
      }
    },
    findByEmail: (emails) => inner.findByEmail(emails),
    create: (inputs) => write(inputs, (ws) => inner.create(ws)),
    update: (inputs) => write(inputs, (ws) => inner.update(ws)),
    createTask: (contactId, task) => inner.createTask(contactId, task),
    findTasks: (contactIds) => inner.findTasks(contactIds),
    ensureProperties: (defs) => inner.ensureProperties(defs),
  };
  omittedBy.set(gateway, omitted);
  return { gateway, recreated };
}

function isMissing(r: WriteResult | undefined): boolean {
  return !!r && !r.ok && r.category === MISSING_PROPERTY;
}
