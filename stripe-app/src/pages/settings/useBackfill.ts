import { useCallback, useEffect, useState } from 'react';
import type { BackendClient } from '../../data/client';
import type { BackfillProgress } from '../../data/contracts';
import { describeError, toRequestError } from '../../data/errors';
import { useRemote } from '../../data/useRemote';

export const BACKFILL_POLL_MS = 3_000;

export interface BackfillModel {
  /** False when the backend does not offer backfills (or could not say): the section is hidden. */
  available: boolean;
  progress: BackfillProgress | null;
  busy: 'starting' | 'canceling' | null;
  error: string | null;
  start: () => void;
  cancel: () => void;
  /** Reads the progress again (e.g. a new HubSpot connection started an import). */
  reload: () => void;
}

/** Import of existing Stripe customers: progress while running (polled), start and cancel. */
export function useBackfill(client: BackendClient): BackfillModel {
  const remote = useRemote(client.getBackfill);
  const [busy, setBusy] = useState<'starting' | 'canceling' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { state, reload, setData } = remote;
  const running = state.status === 'ready' && state.data.backfill?.status === 'running';

  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(reload, BACKFILL_POLL_MS);
    return () => clearTimeout(timer);
  }, [running, reload, state]);

  const act = useCallback(
    (kind: 'starting' | 'canceling') => {
      setBusy(kind);
      setError(null);
      const call = kind === 'starting' ? client.startBackfill() : client.cancelBackfill();
      call.then(
        (res) => {
          setData(res);
          setBusy(null);
        },
        (err: unknown) => {
          const verb = kind === 'starting' ? 'start' : 'cancel';
          setError(`Could not ${verb} the import: ${describeError(toRequestError(err))}`);
          setBusy(null);
        },
      );
    },
    [client, setData],
  );

  return {
    available: state.status === 'ready',
    progress: state.status === 'ready' ? state.data.backfill : null,
    busy,
    error,
    start: useCallback(() => act('starting'), [act]),
    cancel: useCallback(() => act('canceling'), [act]),
    reload,
  };
}
