import type { CustomerSyncState, EventOutcome, Mode } from './data/contracts';

type BadgeType = 'neutral' | 'urgent' | 'warning' | 'negative' | 'positive' | 'info';

/** ISO string or unix seconds → "2024-05-01 14:03 UTC" (stable, unambiguous). */
export function formatTime(at: string | number | null | undefined): string {
  if (at === null || at === undefined || at === '') return '—';
  const d = typeof at === 'number' ? new Date(at * 1000) : new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export const MODE_LABEL: Record<Mode, string> = { test: 'Test mode', live: 'Live mode' };

export const OUTCOMES: readonly EventOutcome[] = ['synced', 'skipped', 'failed', 'ignored', 'pending'];

export const OUTCOME_LABEL: Record<EventOutcome, string> = {
  synced: 'Synced',
  skipped: 'Skipped',
  failed: 'Failed',
  ignored: 'Ignored',
  pending: 'Pending',
};

export const OUTCOME_BADGE: Record<EventOutcome, BadgeType> = {
  synced: 'positive',
  skipped: 'warning',
  failed: 'negative',
  ignored: 'neutral',
  pending: 'info',
};

export const SYNC_STATE_LABEL: Record<CustomerSyncState, string> = {
  synced: 'Synced',
  pending: 'Sync pending',
  failed: 'Sync failed',
  skipped: 'Skipped',
  not_synced: 'Not synced yet',
};

export const SYNC_STATE_BADGE: Record<CustomerSyncState, BadgeType> = {
  synced: 'positive',
  pending: 'info',
  failed: 'negative',
  skipped: 'warning',
  not_synced: 'neutral',
};
