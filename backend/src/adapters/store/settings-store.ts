import type { Queryable } from './db';
import { defaultSettings, validateSettings, type SyncSettings } from '@stripe-hubspot-sync/contracts';

/** `event.account`, or '' for events of the self-hosted merchant's own account. */
export function accountKey(accountId: string | null | undefined): string {
  return accountId ?? '';
}

export interface StoredSettings {
  settings: SyncSettings;
  /** True when the merchant never saved settings for this account and mode. */
  isDefault: boolean;
}

/** Settings of one account in one mode; defaults when none were saved (or a stored document no longer validates). */
export async function loadSettings(db: Queryable, account: string, livemode: boolean): Promise<StoredSettings> {
  const { rows } = await db.query<{ settings: unknown }>(
    'SELECT settings FROM sync_settings WHERE account_key = $1 AND livemode = $2',
    [account, livemode],
  );
  if (rows.length === 0) return { settings: defaultSettings(), isDefault: true };
  const parsed = validateSettings(rows[0].settings);
  return parsed.ok ? { settings: parsed.settings, isDefault: false } : { settings: defaultSettings(), isDefault: true };
}

/** Stores settings that already passed `validateSettings`. */
export async function saveSettings(db: Queryable, account: string, livemode: boolean, settings: SyncSettings): Promise<void> {
  await db.query(
    `INSERT INTO sync_settings (account_key, livemode, settings, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (account_key, livemode) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()`,
    [account, livemode, JSON.stringify(settings)],
  );
}

/** Loads settings once per (account, mode) for the lifetime of one batch. */
export function settingsCache(db: Queryable): (account: string, livemode: boolean) => Promise<StoredSettings> {
  const cache = new Map<string, Promise<StoredSettings>>();
  return (account, livemode) => {
    const key = `${account}|${livemode}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = loadSettings(db, account, livemode);
      cache.set(key, hit);
    }
    return hit;
  };
}
