import { useCallback, useEffect, useRef, useState } from 'react';
import { CardApiError, postCard, type CardEndpoint } from './cardApi';
import type { CardRequest, CardResponse } from './contracts';

/**
 * The card's fetch state. A refresh keeps the current answer on screen (`refreshing`), and a failed refresh keeps it
 * too, with the error beside it; only a failed first load replaces the view with the error.
 */
export type CardDataState =
  | { status: 'loading' }
  | { status: 'success'; data: CardResponse; refreshing: boolean; refreshError: CardApiError | null }
  | { status: 'error'; error: CardApiError };

export interface CardData {
  state: CardDataState;
  /** Load /status again from scratch (the error state's retry). */
  reload: () => void;
  /** Ask /refresh to read Stripe live, keeping the current view until it answers. */
  refresh: () => void;
}

/**
 * Loads the card for one portal and contact from `backendUrl` (nothing is fetched while it is null). Only the newest
 * request may change the state: an answer that arrives after a newer request started (or after the record changed,
 * or the card unmounted) is dropped. `onRefreshed` hears every answer of /refresh.
 */
export function useCardData(backendUrl: string | null, request: CardRequest, onRefreshed?: (data: CardResponse) => void): CardData {
  const { portalId, contactId } = request;
  const [state, setState] = useState<CardDataState>({ status: 'loading' });
  const latestRequest = useRef(0);
  const onRefreshedRef = useRef(onRefreshed);
  onRefreshedRef.current = onRefreshed;

  const run = useCallback(
    (endpoint: CardEndpoint, keepView: boolean) => {
      if (backendUrl === null) return;
      const id = ++latestRequest.current;
      setState((prev) =>
        keepView && prev.status === 'success' ? { ...prev, refreshing: true, refreshError: null } : { status: 'loading' },
      );
      postCard(backendUrl, endpoint, { portalId, contactId }).then(
        (data) => {
          if (id !== latestRequest.current) return;
          setState({ status: 'success', data, refreshing: false, refreshError: null });
          if (endpoint === 'refresh') onRefreshedRef.current?.(data);
        },
        (err: unknown) => {
          if (id !== latestRequest.current) return;
          const error = err instanceof CardApiError ? err : new CardApiError('network', 'Something went wrong loading Stripe data.');
          setState((prev) =>
            keepView && prev.status === 'success' ? { ...prev, refreshing: false, refreshError: error } : { status: 'error', error },
          );
        },
      );
    },
    [backendUrl, portalId, contactId],
  );

  useEffect(() => {
    run('status', false);
    return () => {
      // Invalidate whatever is in flight for this record.
      latestRequest.current += 1;
    };
  }, [run]);

  const reload = useCallback(() => run('status', false), [run]);
  const refresh = useCallback(() => run('refresh', true), [run]);
  return { state, reload, refresh };
}
