import { dbKinds, useMigratedDb } from '../../../test/helpers/db';
import { storeInboxEvents, type NewInboxEvent } from './inbox';
import { installedSince, recordInstall, recordUninstall, tombstoneOf } from './tombstones';

/**
 * Uninstall tombstones and the install markers beside them: a tombstone holds from an uninstall until an install
 * created after it; an install seen first leaves a marker that never holds, whatever its `created` (0 included:
 * the webhook accepts any non-negative `created`).
 */
const inboxEvent = (id: string, account: string, created: number): NewInboxEvent => ({
  id,
  type: 'customer.updated',
  accountId: account,
  livemode: false,
  created,
  rawPayload: JSON.stringify({ id, object: 'event', type: 'customer.updated', created, livemode: false, account, data: { object: {} } }),
  status: 'received',
  statusReason: null,
});

describe.each(dbKinds())('uninstall tombstones (%s)', (kind) => {
  const db = useMigratedDb(kind);

  it('an install seen first, created at 0, leaves a marker that refuses nothing', async () => {
    const a = { account: 'acct_marker0', livemode: false };
    expect(await recordInstall(db(), a, 0)).toBe(false);
    expect(await tombstoneOf(db(), a)).toBeNull();
    const stored = await storeInboxEvents(db(), [inboxEvent('evt_marker0_a', a.account, 0), inboxEvent('evt_marker0_b', a.account, 5)]);
    expect(stored.refused).toEqual(new Set());
    expect(stored.inserted).toEqual(new Set(['evt_marker0_a', 'evt_marker0_b']));
    // An uninstall created after that install holds.
    expect(await installedSince(db(), a, 10)).toBe(false);
    expect(await recordUninstall(db(), a, 10)).toBe(true);
    expect(await tombstoneOf(db(), a)).toBe(10);
  });

  it('a tombstone refuses what was created up to the uninstall, until an install created after it', async () => {
    const a = { account: 'acct_tomb', livemode: false };
    expect(await recordUninstall(db(), a, 100)).toBe(true);
    const before = await storeInboxEvents(db(), [inboxEvent('evt_tomb_old', a.account, 100), inboxEvent('evt_tomb_new', a.account, 101)]);
    expect(before.refused).toEqual(new Set(['evt_tomb_old']));
    expect(before.inserted).toEqual(new Set(['evt_tomb_new']));
    expect(await recordInstall(db(), a, 90)).toBe(false);
    expect(await tombstoneOf(db(), a)).toBe(100);
    expect(await recordInstall(db(), a, 150)).toBe(true);
    expect(await tombstoneOf(db(), a)).toBeNull();
    const after = await storeInboxEvents(db(), [inboxEvent('evt_tomb_old', a.account, 100)]);
    expect(after.inserted).toEqual(new Set(['evt_tomb_old']));
  });
});
