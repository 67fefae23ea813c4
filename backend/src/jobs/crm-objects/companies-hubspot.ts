import { createHash } from 'node:crypto';
import { PROPERTY_GROUP } from '@stripe-hubspot-sync/contracts';
import { ConnectionHubSpotError, MISSING_PROPERTY, PermanentHubSpotError, missingProperties } from '../../adapters/hubspot/errors';
import { ensureObjectProperties } from '../../adapters/hubspot/object-properties';
import { COMPANY_ID_PROPERTY, companyPropertyDefinitions } from '../../domain/crm/companies';
import {
  forgetProvisioned,
  forgetWritten,
  isProvisioned,
  provisionedAt,
  recordProvisioned,
} from '../../adapters/store/companies-store';
import { savePropertyProblems } from '../../adapters/store/connection-health';
import type { ObjectWriterContext } from './stage';

/**
 * Our company properties in a portal: provisioned once per portal and property set (remembered in
 * `portal_provisioning`), and again when HubSpot says one is missing (a user deleted it) — then every company is
 * written in full at its next write, since the values went with the property. A property HubSpot will not create is
 * left out of writes for the pass (and the unique one out of lookups), and listed with the connection's property
 * problems in the Stripe App as `companies.<name>`.
 */
export interface CompanyProperties {
  /** Properties we cannot write in this portal now. */
  readonly unavailable: ReadonlySet<string>;
  /** Whether the unique customer-id property exists (lookups by it, and creates keyed by it). */
  uniqueAvailable(): boolean;
  /** Makes sure the properties exist (one read of the database once provisioned). */
  ensure(): Promise<void>;
  /** HubSpot said a property is missing: provision again, once a pass; answers whether it did. */
  reprovision(): Promise<boolean>;
}

const DEFINITIONS = companyPropertyDefinitions();
const HASH = `companies:${createHash('sha256').update(JSON.stringify(DEFINITIONS)).digest('hex').slice(0, 32)}`;

export function companyPropertySet(ctx: ObjectWriterContext): CompanyProperties {
  const unavailable = new Set<string>();
  let checked = false;
  let reprovisioned = false;
  const provision = async () => {
    const report = await ensureObjectProperties(ctx.portal, 'companies', PROPERTY_GROUP, DEFINITIONS);
    unavailable.clear();
    for (const f of report.failed) unavailable.add(f.name);
    await savePropertyProblems(
      ctx.db,
      ctx.portal.portalId,
      DEFINITIONS.map((d) => `companies.${d.name}`),
      report.failed.map((f) => ({ ...f, name: `companies.${f.name}` })),
    );
    if (report.failed.length > 0) {
      ctx.logger.warn({ portalId: ctx.portal.portalId, failed: report.failed }, 'HubSpot refused some company properties; writes go out without them');
    }
    if (report.created.length > 0) await forgetWritten(ctx.db, ctx.portal.portalId);
    await recordProvisioned(ctx.db, ctx.portal.portalId, HASH);
    await clearScopesRefused(ctx);
  };
  return {
    unavailable,
    uniqueAvailable: () => !unavailable.has(COMPANY_ID_PROPERTY),
    async ensure() {
      if (checked) return;
      checked = true;
      if (!(await isProvisioned(ctx.db, ctx.portal.portalId, HASH))) await provision();
    },
    async reprovision() {
      if (reprovisioned) return false;
      reprovisioned = true;
      checked = true;
      await provision();
      return true;
    },
  };
}

/** Runs a lookup; when HubSpot says our property is missing (or not unique), provisions once and runs it again. */
export async function withProperties<T>(props: CompanyProperties, fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof PermanentHubSpotError) || !isPropertyProblem(err) || !(await props.reprovision())) throw err;
    return props.uniqueAvailable() ? fn() : fallback;
  }
}

function isPropertyProblem(err: PermanentHubSpotError): boolean {
  return err.category === MISSING_PROPERTY || missingProperties(err).missing || (err.status === 400 && /unique|idProperty|does not exist/i.test(err.message));
}

/** Drops the properties we cannot write now. */
export function writable(props: CompanyProperties, values: Record<string, string>): Record<string, string> {
  if (props.unavailable.size === 0) return values;
  return Object.fromEntries(Object.entries(values).filter(([k]) => !props.unavailable.has(k)));
}

/**
 * An OAuth install made before companies existed lacks their scopes: HubSpot answers 403 MISSING_SCOPES to every
 * company call. That is no reason to stop writing contacts, so the companies writer steps aside instead of pausing the
 * connection: it records the refusal (shown with the connection's property problems in the Stripe App: reconnecting
 * grants the scopes), makes no company call for `recheckMs`, then tries again.
 */
const SCOPES_REFUSED = 'companies:scopes-refused';
const SCOPES_PROBLEM = 'companies';

export function isMissingScopes(err: unknown): err is ConnectionHubSpotError {
  return err instanceof ConnectionHubSpotError && err.status === 403;
}

/** Whether company calls were refused for missing scopes less than `recheckMs` ago. */
export async function scopesRecentlyRefused(ctx: ObjectWriterContext, recheckMs: number): Promise<boolean> {
  const at = await provisionedAt(ctx.db, ctx.portal.portalId, SCOPES_REFUSED);
  return at !== null && Date.now() - at.getTime() < recheckMs;
}

export async function recordScopesRefused(ctx: ObjectWriterContext, err: ConnectionHubSpotError): Promise<void> {
  ctx.logger.warn({ portalId: ctx.portal.portalId, category: err.category }, 'HubSpot refuses the companies API (missing scopes); contacts are written without companies');
  await recordProvisioned(ctx.db, ctx.portal.portalId, SCOPES_REFUSED);
  await savePropertyProblems(ctx.db, ctx.portal.portalId, [], [
    {
      name: SCOPES_PROBLEM,
      category: err.category,
      message: `HubSpot refused the companies API (${err.message}). Reconnect HubSpot to grant the companies scopes; contacts are written meanwhile.`,
    },
  ]);
}

/** Company properties could be read and created: a refusal recorded before is over. */
async function clearScopesRefused(ctx: ObjectWriterContext): Promise<void> {
  if (!(await provisionedAt(ctx.db, ctx.portal.portalId, SCOPES_REFUSED))) return;
  await forgetProvisioned(ctx.db, ctx.portal.portalId, SCOPES_REFUSED);
  await savePropertyProblems(ctx.db, ctx.portal.portalId, [SCOPES_PROBLEM], []);
}
