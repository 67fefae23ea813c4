import { randomBytes } from 'node:crypto';
import {
  INTERCOM_REGIONS,
  SALESFORCE_ENVIRONMENTS,
  type IntercomRegion,
  type SalesforceEnvironment,
  validateDestinationSettings,
  type CustomerDestinationState,
  type DestinationCounts,
  type DestinationHealth,
  type DestinationHealthState,
  type DestinationAuthKind,
  type DestinationKind,
  type DestinationSettings,
  type DestinationSummary,
  DESTINATION_LABELS,
  defaultDestinationSettings,
} from '@stripe-hubspot-sync/contracts';
import type { Queryable } from './db';

/**
 * The destinations of each Stripe account and mode (Klaviyo, Loops, …): their settings, sealed keys and health,
 * and the counts the Stripe App shows. The key is sealed by the caller (TokenCipher, bound to the destination id)
 * and never leaves this table in the clear.
 */

export interface StoredDestination {
  id: string;
  account: string;
  livemode: boolean;
  kind: DestinationKind;
  label: string;
  keySealed: string;
  keyHint: string;
  /** Which credentials `keySealed` holds: an API key, or OAuth tokens. */
  authKind: DestinationAuthKind;
  /** Intercom: the workspace's region (null: not a regional destination). */
  region: IntercomRegion | null;
  /** Salesforce: the login environment the org was connected with (its tokens are refreshed and revoked there). */
  environment: SalesforceEnvironment | null;
  settings: DestinationSettings;
  health: DestinationHealth;
  propertiesEnsured: string[];
  createdAt: Date;
}

interface Row {
  id: string;
  account_key: string;
  livemode: boolean;
  kind: DestinationKind;
  label: string;
  key_sealed: string;
  key_hint: string;
  auth_kind: string | null;
  region: string | null;
  environment: string | null;
  settings: unknown;
  health: DestinationHealthState;
  health_message: string | null;
  health_checked_at: Date | string | null;
  properties_ensured: string[] | null;
  created_at: Date | string;
}

const COLUMNS = `id, account_key, livemode, kind, label, key_sealed, key_hint, auth_kind, region, environment, settings, health, health_message, health_checked_at,
                 properties_ensured, created_at`;

function toDestination(r: Row): StoredDestination {
  const parsed = validateDestinationSettings(r.kind, r.settings);
  return {
    id: r.id,
    account: r.account_key,
    livemode: r.livemode,
    kind: r.kind,
    label: r.label,
    keySealed: r.key_sealed,
    keyHint: r.key_hint,
    authKind: r.auth_kind === 'oauth' ? 'oauth' : 'api_key',
    region: (INTERCOM_REGIONS as readonly string[]).includes(r.region ?? '') ? (r.region as IntercomRegion) : null,
    environment: (SALESFORCE_ENVIRONMENTS as readonly string[]).includes(r.environment ?? '') ? (r.environment as SalesforceEnvironment) : null,
    settings: parsed.ok ? parsed.settings : defaultDestinationSettings(r.kind),
    health: {
      state: r.health,
      message: r.health_message,
      checkedAt: r.health_checked_at == null ? null : new Date(r.health_checked_at).toISOString(),
    },
    propertiesEnsured: r.properties_ensured ?? [],
    createdAt: new Date(r.created_at),
  };
}

export function newDestinationId(): string {
  return `dst_${randomBytes(12).toString('hex')}`;
}

/**
 * What `key_sealed` holds, sealed as one JSON document bound to the destination id: the kind says which. A value
 * that is not such a document is a bare API key (stored before migration 018).
 */
export type DestinationCredentials =
  | { kind: 'api_key'; apiKey: string }
  | {
      kind: 'oauth';
      accessToken: string;
      refreshToken: string;
      /** When the access token expires (ISO). */
      expiresAt: string;
      /** The scopes granted (space-separated, as the token endpoint answered). */
      scope: string;
      /** Salesforce: the org's instance URL (its REST API), as the token endpoint answered it at connection. */
      instanceUrl?: string;
    };

export function credentialsDocument(c: DestinationCredentials): string {
  return JSON.stringify(c);
}

export function parseCredentials(plain: string): DestinationCredentials {
  if (plain.startsWith('{')) {
    try {
      const doc = JSON.parse(plain) as Partial<Record<string, unknown>>;
      if (doc.kind === 'api_key' && typeof doc.apiKey === 'string') return { kind: 'api_key', apiKey: doc.apiKey };
      if (doc.kind === 'oauth' && typeof doc.accessToken === 'string' && typeof doc.refreshToken === 'string' && typeof doc.expiresAt === 'string') {
        return {
          kind: 'oauth',
          accessToken: doc.accessToken,
          refreshToken: doc.refreshToken,
          expiresAt: doc.expiresAt,
          scope: typeof doc.scope === 'string' ? doc.scope : '',
          ...(typeof doc.instanceUrl === 'string' ? { instanceUrl: doc.instanceUrl } : {}),
        };
      }
    } catch {
      // not a document: a bare key
    }
  }
  return { kind: 'api_key', apiKey: plain };
}

/** The last four characters of a key, for the merchant to tell keys apart. */
export function keyHintOf(key: string): string {
  return key.length <= 8 ? '••••' : `••••${key.slice(-4)}`;
}

export async function insertDestination(
  db: Queryable,
  d: {
    id: string;
    account: string;
    livemode: boolean;
    kind: DestinationKind;
    label: string;
    keySealed: string;
    keyHint: string;
    settings: DestinationSettings;
    authKind?: DestinationAuthKind;
    region?: IntercomRegion | null;
    environment?: SalesforceEnvironment | null;
  },
): Promise<StoredDestination | null> {
  const { rows } = await db.query<Row>(
    `INSERT INTO destinations (id, account_key, livemode, kind, label, key_sealed, key_hint, settings, auth_kind, region, environment, health, health_checked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, 'ok', now())
     ON CONFLICT (account_key, livemode, kind) DO NOTHING
     RETURNING ${COLUMNS}`,
    [d.id, d.account, d.livemode, d.kind, d.label.slice(0, 200), d.keySealed, d.keyHint, JSON.stringify(d.settings), d.authKind ?? 'api_key', d.region ?? null, d.environment ?? null],
  );
  return rows[0] ? toDestination(rows[0]) : null;
}

export async function listDestinations(db: Queryable, account: string, livemode: boolean): Promise<StoredDestination[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM destinations WHERE account_key = $1 AND livemode = $2 ORDER BY created_at, id`,
    [account, livemode],
  );
  return rows.map(toDestination);
}

/** One destination of this account and mode (null: none, or another tenant's — never told apart). */
export async function getDestination(db: Queryable, account: string, livemode: boolean, id: string): Promise<StoredDestination | null> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM destinations WHERE id = $1 AND account_key = $2 AND livemode = $3`, [
    id,
    account,
    livemode,
  ]);
  return rows[0] ? toDestination(rows[0]) : null;
}

export async function destinationById(db: Queryable, id: string): Promise<StoredDestination | null> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM destinations WHERE id = $1`, [id]);
  return rows[0] ? toDestination(rows[0]) : null;
}

/** Every destination that can be written now (not broken), for the pusher. */
export async function writableDestinations(db: Queryable): Promise<StoredDestination[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM destinations WHERE health <> 'broken' ORDER BY id`);
  return rows.map(toDestination);
}

/**
 * New settings. Every customer is written again to this destination when fields changed (their names or choice),
 * so the destination holds what the merchant now chose.
 */
export async function updateDestinationSettings(
  db: Queryable,
  account: string,
  livemode: boolean,
  id: string,
  settings: DestinationSettings,
): Promise<StoredDestination | null> {
  const before = await getDestination(db, account, livemode, id);
  if (!before) return null;
  const { rows } = await db.query<Row>(
    `UPDATE destinations SET settings = $4::jsonb, updated_at = now() WHERE id = $1 AND account_key = $2 AND livemode = $3 RETURNING ${COLUMNS}`,
    [id, account, livemode, JSON.stringify(settings)],
  );
  if (JSON.stringify(before.settings.fields) !== JSON.stringify(settings.fields)) {
    await db.query(`UPDATE destination_customers SET synced_version = 0 WHERE destination_id = $1`, [id]);
  }
  return rows[0] ? toDestination(rows[0]) : null;
}

export async function setDestinationHealth(db: Queryable, id: string, state: DestinationHealthState, message: string | null): Promise<void> {
  await db.query(
    `UPDATE destinations SET health = $2, health_message = $3, health_checked_at = now(), updated_at = now() WHERE id = $1`,
    [id, state, message === null ? null : message.slice(0, 500)],
  );
}

export async function setPropertiesEnsured(db: Queryable, id: string, names: readonly string[]): Promise<void> {
  await db.query(`UPDATE destinations SET properties_ensured = $2::jsonb WHERE id = $1`, [id, JSON.stringify([...names].sort())]);
}

/** The sealed credentials of a destination now, and whether another instance holds its refresh lease. */
export async function sealedCredentials(db: Queryable, id: string): Promise<{ keySealed: string; leased: boolean } | null> {
  const { rows } = await db.query<{ key_sealed: string; leased: boolean }>(
    `SELECT key_sealed, (refresh_lease_until IS NOT NULL AND refresh_lease_until > now()) AS leased FROM destinations WHERE id = $1`,
    [id],
  );
  return rows[0] ? { keySealed: rows[0].key_sealed, leased: rows[0].leased } : null;
}

/** Takes the refresh lease for `ms`, only while the row still holds `keySealed` and no live lease: true when taken. */
export async function takeRefreshLease(db: Queryable, id: string, keySealed: string, lease: string, ms: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE destinations SET refresh_lease_token = $3, refresh_lease_until = now() + make_interval(secs => $4::double precision / 1000)
      WHERE id = $1 AND key_sealed = $2 AND (refresh_lease_until IS NULL OR refresh_lease_until <= now())`,
    [id, keySealed, lease, ms],
  );
  return r.rowCount === 1;
}

/** Saves refreshed credentials only under our lease and over the credentials refreshed (compare-and-set). */
export async function saveRefreshedCredentials(db: Queryable, id: string, lease: string, before: string, after: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE destinations SET key_sealed = $4, refresh_lease_token = NULL, refresh_lease_until = NULL, updated_at = now()
      WHERE id = $1 AND refresh_lease_token = $2 AND key_sealed = $3`,
    [id, lease, before, after],
  );
  return r.rowCount === 1;
}

export async function releaseRefreshLease(db: Queryable, id: string, lease: string): Promise<void> {
  await db.query(`UPDATE destinations SET refresh_lease_token = NULL, refresh_lease_until = NULL WHERE id = $1 AND refresh_lease_token = $2`, [id, lease]);
}

export async function deleteDestination(db: Queryable, account: string, livemode: boolean, id: string): Promise<boolean> {
  const r = await db.query(`DELETE FROM destinations WHERE id = $1 AND account_key = $2 AND livemode = $3`, [id, account, livemode]);
  return r.rowCount > 0;
}

/** Synced, pending and failed customers of a destination (customers with a folded status in its account and mode). */
export async function destinationCounts(db: Queryable, d: Pick<StoredDestination, 'id' | 'account' | 'livemode'>): Promise<DestinationCounts> {
  const { rows } = await db.query<{ synced: number; pending: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE dc.dead_at IS NULL AND dc.synced_version >= c.version)::int AS synced,
            count(*) FILTER (WHERE dc.dead_at IS NULL AND COALESCE(dc.synced_version, 0) < c.version)::int AS pending,
            count(*) FILTER (WHERE dc.dead_at IS NOT NULL)::int AS failed
       FROM customers c
       LEFT JOIN destination_customers dc ON dc.destination_id = $1 AND dc.customer_id = c.customer_id
      WHERE c.account_key = $2 AND c.livemode = $3 AND c.status IS NOT NULL`,
    [d.id, d.account, d.livemode],
  );
  const r = rows[0]!;
  return { synced: Number(r.synced), pending: Number(r.pending), failed: Number(r.failed) };
}

export async function destinationSummary(db: Queryable, d: StoredDestination): Promise<DestinationSummary> {
  return {
    id: d.id,
    kind: d.kind,
    mode: d.livemode ? 'live' : 'test',
    label: d.label,
    keyHint: d.keyHint,
    auth: d.authKind,
    ...(d.region ? { region: d.region } : {}),
    ...(d.environment ? { environment: d.environment } : {}),
    connectedAt: d.createdAt.toISOString(),
    health: d.health,
    settings: d.settings,
    counts: await destinationCounts(db, d),
  };
}

/** A customer's state in each destination of its account and mode (the Stripe App's customer view). */
export async function customerDestinationStates(
  db: Queryable,
  account: string,
  livemode: boolean,
  customerId: string,
): Promise<CustomerDestinationState[]> {
  const { rows } = await db.query<{
    id: string;
    kind: DestinationKind;
    label: string;
    health: DestinationHealthState;
    health_message: string | null;
    version: string | null;
    synced_version: string | null;
    external_id: string | null;
    synced_at: Date | string | null;
    last_error: string | null;
    dead_at: Date | string | null;
  }>(
    `SELECT d.id, d.kind, d.label, d.health, d.health_message, c.version, dc.synced_version, dc.external_id, dc.synced_at,
            dc.last_error, dc.dead_at
       FROM destinations d
       LEFT JOIN customers c ON c.account_key = d.account_key AND c.livemode = d.livemode AND c.customer_id = $3
       LEFT JOIN destination_customers dc ON dc.destination_id = d.id AND dc.customer_id = $3
      WHERE d.account_key = $1 AND d.livemode = $2
      ORDER BY d.created_at, d.id`,
    [account, livemode, customerId],
  );
  return rows.map((r) => {
    const synced = r.synced_version != null && r.version != null && Number(r.synced_version) >= Number(r.version);
    const state: CustomerDestinationState['state'] =
      r.dead_at != null ? 'failed' : r.version == null ? 'not_synced' : synced ? (r.synced_at == null ? 'not_synced' : 'synced') : 'pending';
    return {
      destinationId: r.id,
      kind: r.kind,
      label: r.label || DESTINATION_LABELS[r.kind],
      state,
      externalId: r.external_id,
      lastSyncedAt: r.synced_at == null ? null : new Date(r.synced_at).toISOString(),
      message: r.health === 'broken' ? r.health_message : r.last_error,
    };
  });
}
