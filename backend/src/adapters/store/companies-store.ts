import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { Db, Queryable } from './db';

/**
 * Companies in the database (migration 013): which HubSpot company each company key is per account, mode and
 * portal, what we last wrote to it, its members (customers) and the contact associated for each. Company rows are
 * leased by the pass that writes them, so two passes (two instances) never create or write one company at once.
 */

export interface CompanyScope {
  account: string;
  livemode: boolean;
  portalId: number;
}

export interface CompanyRow {
  key: string;
  companyId: string | null;
  uniqueValue: string | null;
  createdByUs: boolean;
  written: Record<string, string> | null;
  missedAt: Date | null;
}

export interface Membership {
  key: string;
  associatedContactId: string | null;
}

export interface CompanyMemberRow {
  customerId: string;
  status: CustomerStatus;
  businessName: string | null;
  associatedContactId: string | null;
}

interface Row {
  company_key: string;
  company_id: string | null;
  unique_value: string | null;
  created_by_us: boolean;
  written: Record<string, string> | null;
  missed_at: Date | string | null;
}

const ROW_COLUMNS = 'company_key, company_id, unique_value, created_by_us, written, missed_at';

function toRow(r: Row): CompanyRow {
  return {
    key: r.company_key,
    companyId: r.company_id,
    uniqueValue: r.unique_value,
    createdByUs: r.created_by_us,
    written: r.written,
    missedAt: r.missed_at === null ? null : new Date(r.missed_at),
  };
}

const scopeParams = (s: CompanyScope) => [s.account, s.livemode, s.portalId];

/** The Stripe `business_name` of each customer that has one (its customer record's `businessName`). */
export async function businessNames(db: Queryable, account: string, livemode: boolean, customerIds: string[]): Promise<Map<string, string>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await db.query<{ object_id: string; name: string }>(
    `SELECT object_id, data->>'businessName' AS name FROM stripe_objects
      WHERE account_key = $1 AND livemode = $2 AND kind = 'customer' AND object_id = ANY($3::text[]) AND data ? 'businessName'`,
    [account, livemode, customerIds],
  );
  return new Map(rows.filter((r) => r.name).map((r) => [r.object_id, r.name]));
}

/** The company key each of these customers belongs to in the portal now (absent: none). */
export async function membershipsOf(db: Queryable, scope: CompanyScope, customerIds: string[]): Promise<Map<string, Membership>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await db.query<{ customer_id: string; company_key: string; associated_contact_id: string | null }>(
    `SELECT customer_id, company_key, associated_contact_id FROM crm_company_members
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND customer_id = ANY($4::text[])`,
    [...scopeParams(scope), customerIds],
  );
  return new Map(rows.map((r) => [r.customer_id, { key: r.company_key, associatedContactId: r.associated_contact_id }]));
}

/**
 * Leases the company rows of `keys` (creating the rows of new keys) for `leaseSeconds`: answers the rows this pass
 * now holds; a key another pass holds is absent. Keys are taken in order, so two passes never wait on each other.
 */
export async function claimCompanies(db: Queryable, scope: CompanyScope, keys: string[], token: string, leaseSeconds: number): Promise<Map<string, CompanyRow>> {
  if (keys.length === 0) return new Map();
  const sorted = [...new Set(keys)].sort();
  const { rows } = await db.query<Row>(
    `INSERT INTO crm_companies (account_key, livemode, portal_id, company_key, lease_token, lease_until)
     SELECT $1, $2, $3, k, $5, now() + make_interval(secs => $6::double precision) FROM unnest($4::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n
     ON CONFLICT (account_key, livemode, portal_id, company_key) DO UPDATE
        SET lease_token = EXCLUDED.lease_token, lease_until = EXCLUDED.lease_until
      WHERE crm_companies.lease_until IS NULL OR crm_companies.lease_until < now() OR crm_companies.lease_token = EXCLUDED.lease_token
     RETURNING ${ROW_COLUMNS}`,
    [...scopeParams(scope), sorted, token, leaseSeconds],
  );
  return new Map(rows.map((r) => [r.company_key, toRow(r)]));
}

export async function releaseCompanies(db: Queryable, scope: CompanyScope, token: string): Promise<void> {
  await db.query(
    `UPDATE crm_companies SET lease_token = NULL, lease_until = NULL
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND lease_token = $4`,
    [...scopeParams(scope), token],
  );
}

/**
 * Moves customers to their company key (a new key: not associated yet), or out of any company (key null).
 * One statement each way.
 */
export async function saveMemberships(db: Db, scope: CompanyScope, changes: { customerId: string; key: string | null }[]): Promise<void> {
  const joins = changes.filter((c): c is { customerId: string; key: string } => c.key !== null);
  const leaves = changes.filter((c) => c.key === null).map((c) => c.customerId);
  await db.transaction(async (tx) => {
    if (leaves.length > 0) {
      await tx.query(
        `DELETE FROM crm_company_members WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND customer_id = ANY($4::text[])`,
        [...scopeParams(scope), leaves],
      );
    }
    if (joins.length > 0) {
      await tx.query(
        `INSERT INTO crm_company_members (account_key, livemode, portal_id, customer_id, company_key)
         SELECT $1, $2, $3, c, k FROM unnest($4::text[], $5::text[]) AS u(c, k)
         ON CONFLICT (account_key, livemode, customer_id, portal_id) DO UPDATE
            SET company_key = EXCLUDED.company_key, associated_contact_id = NULL
          WHERE crm_company_members.company_key IS DISTINCT FROM EXCLUDED.company_key`,
        [...scopeParams(scope), joins.map((j) => j.customerId), joins.map((j) => j.key)],
      );
    }
  });
}

/** Every member of these companies with its status (the read model) and business name: key → members. */
export async function membersOf(db: Queryable, scope: CompanyScope, keys: string[]): Promise<Map<string, CompanyMemberRow[]>> {
  const out = new Map<string, CompanyMemberRow[]>(keys.map((k) => [k, []]));
  if (keys.length === 0) return out;
  const { rows } = await db.query<{ company_key: string; customer_id: string; status: CustomerStatus | null; name: string | null; associated_contact_id: string | null }>(
    `SELECT m.company_key, m.customer_id, c.status, o.data->>'businessName' AS name, m.associated_contact_id
       FROM crm_company_members m
       JOIN customers c ON c.account_key = m.account_key AND c.livemode = m.livemode AND c.customer_id = m.customer_id
       LEFT JOIN stripe_objects o ON o.account_key = m.account_key AND o.livemode = m.livemode AND o.kind = 'customer' AND o.object_id = m.customer_id
      WHERE m.account_key = $1 AND m.livemode = $2 AND m.portal_id = $3 AND m.company_key = ANY($4::text[])`,
    [...scopeParams(scope), keys],
  );
  for (const r of rows) {
    if (!r.status) continue;
    out.get(r.company_key)?.push({ customerId: r.customer_id, status: r.status, businessName: r.name, associatedContactId: r.associated_contact_id });
  }
  return out;
}

/** Which key already stands for each of these HubSpot companies (absent: none). */
export async function keysOfCompanies(db: Queryable, scope: CompanyScope, companyIds: string[]): Promise<Map<string, string>> {
  if (companyIds.length === 0) return new Map();
  const { rows } = await db.query<{ company_id: string; company_key: string }>(
    `SELECT company_id, company_key FROM crm_companies
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND company_id = ANY($4::text[])`,
    [...scopeParams(scope), companyIds],
  );
  return new Map(rows.map((r) => [r.company_id, r.company_key]));
}

/** Before a create: the unique value it carries, so a create whose answer is lost is found again by it. */
export async function recordCreating(db: Queryable, scope: CompanyScope, items: { key: string; uniqueValue: string | null }[]): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `UPDATE crm_companies c SET unique_value = u.v, created_by_us = true, updated_at = now()
       FROM unnest($4::text[], $5::text[]) AS u(k, v)
      WHERE c.account_key = $1 AND c.livemode = $2 AND c.portal_id = $3 AND c.company_key = u.k`,
    [...scopeParams(scope), items.map((i) => i.key), items.map((i) => i.uniqueValue)],
  );
}

/** The HubSpot company of each key (found or created), with what it holds from us when we know it. */
export async function saveCompanies(
  db: Queryable,
  scope: CompanyScope,
  items: { key: string; companyId: string; createdByUs: boolean; uniqueValue: string | null; written: Record<string, string> | null }[],
): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `UPDATE crm_companies c
        SET company_id = u.id, created_by_us = u.ours, unique_value = u.v, written = u.w::jsonb, missed_at = NULL, updated_at = now()
       FROM unnest($4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[]) AS u(k, id, ours, v, w)
      WHERE c.account_key = $1 AND c.livemode = $2 AND c.portal_id = $3 AND c.company_key = u.k`,
    [
      ...scopeParams(scope),
      items.map((i) => i.key),
      items.map((i) => i.companyId),
      items.map((i) => i.createdByUs),
      items.map((i) => i.uniqueValue),
      items.map((i) => (i.written ? JSON.stringify(i.written) : null)),
    ],
  );
}

/** After a successful update: what the company now holds from us. */
export async function saveWritten(db: Queryable, scope: CompanyScope, items: { key: string; written: Record<string, string>; uniqueValue: string | null }[]): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `UPDATE crm_companies c SET written = u.w::jsonb, unique_value = u.v, updated_at = now()
       FROM unnest($4::text[], $5::text[], $6::text[]) AS u(k, w, v)
      WHERE c.account_key = $1 AND c.livemode = $2 AND c.portal_id = $3 AND c.company_key = u.k`,
    [...scopeParams(scope), items.map((i) => i.key), items.map((i) => JSON.stringify(i.written)), items.map((i) => i.uniqueValue)],
  );
}

/** The company was deleted in HubSpot: the key is found or created again at its next write. */
export async function forgetCompanies(db: Queryable, scope: CompanyScope, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `UPDATE crm_companies SET company_id = NULL, unique_value = NULL, created_by_us = false, written = NULL, updated_at = now()
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND company_key = ANY($4::text[])`,
    [...scopeParams(scope), keys],
  );
  await db.query(
    `UPDATE crm_company_members SET associated_contact_id = NULL
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND company_key = ANY($4::text[])`,
    [...scopeParams(scope), keys],
  );
}

/** Looked for and not found, with creating turned off. */
export async function markMissed(db: Queryable, scope: CompanyScope, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `UPDATE crm_companies SET missed_at = now(), updated_at = now()
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND company_key = ANY($4::text[])`,
    [...scopeParams(scope), keys],
  );
}

/** The contact now associated with its company, per customer. */
export async function markAssociated(db: Queryable, scope: CompanyScope, items: { customerId: string; contactId: string }[]): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `UPDATE crm_company_members m SET associated_contact_id = u.contact
       FROM unnest($4::text[], $5::text[]) AS u(customer, contact)
      WHERE m.account_key = $1 AND m.livemode = $2 AND m.portal_id = $3 AND m.customer_id = u.customer`,
    [...scopeParams(scope), items.map((i) => i.customerId), items.map((i) => i.contactId)],
  );
}

/** Our company properties were created again in HubSpot (their values lost): every company is written in full next time. */
export async function forgetWritten(db: Queryable, portalId: number): Promise<void> {
  await db.query(`UPDATE crm_companies SET written = NULL WHERE portal_id = $1 AND company_id IS NOT NULL`, [portalId]);
}

/** Whether the portal was provisioned with this property set (`portal_provisioning`, shared with the contacts'). */
export async function isProvisioned(db: Queryable, portalId: number, definitionsHash: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2`, [portalId, definitionsHash]);
  return rows.length > 0;
}

export async function recordProvisioned(db: Queryable, portalId: number, definitionsHash: string): Promise<void> {
  await db.query(
    `INSERT INTO portal_provisioning (portal_id, definitions_hash) VALUES ($1, $2)
     ON CONFLICT (portal_id, definitions_hash) DO UPDATE SET provisioned_at = now()`,
    [portalId, definitionsHash],
  );
}

/** When the portal was last recorded under `marker` in `portal_provisioning` (null: never, or forgotten). */
export async function provisionedAt(db: Queryable, portalId: number, marker: string): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | string }>(
    `SELECT provisioned_at AS at FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2`,
    [portalId, marker],
  );
  return rows[0] ? new Date(rows[0].at) : null;
}

export async function forgetProvisioned(db: Queryable, portalId: number, marker: string): Promise<void> {
  await db.query(`DELETE FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2`, [portalId, marker]);
}
