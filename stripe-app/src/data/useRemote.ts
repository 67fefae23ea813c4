import { useCallback, useEffect, useRef, useState } from 'react';
import { toRequestError, type ApiRequestError } from './errors';

export type Remote<T> =
  | { status: 'loading' }
  | { status: 'ready'; data: T }
  | { status: 'error'; error: ApiRequestError };

export interface RemoteHandle<T> {
  state: Remote<T>;
  /** True while a reload runs with older data still shown. */
  refreshing: boolean;
  reload: () => void;
  /** Replace the data with what an action returned, without a round trip. */
  setData: (data: T) => void;
}

/**
 * Loads with `load` whenever it changes (memoize it with useCallback) and on reload().
 * Answers of superseded loads and answers after unmount are dropped, so a slow old
 * response never overwrites a newer one.
 */
export function useRemote<T>(load: () => Promise<T>, options: { keepDataOnChange?: boolean } = {}): RemoteHandle<T> {
  const keepData = options.keepDataOnChange ?? false;
  const [state, setState] = useState<Remote<T>>({ status: 'loading' });
  const [refreshing, setRefreshing] = useState(false);
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  const lastLoad = useRef(load);

  useEffect(() => {
    const mine = ++seq.current;
    const loaderChanged = lastLoad.current !== load;
    lastLoad.current = load;
    // A retry after an error shows the loading state; a refresh keeps the data, and so does a new
    // query when asked to (the caller then tells which query the shown data answers).
    setState((s) => (s.status === 'error' || (loaderChanged && !keepData) ? { status: 'loading' } : s));
    setRefreshing(true);
    load().then(
      (data) => {
        if (seq.current !== mine) return;
        setState({ status: 'ready', data });
        setRefreshing(false);
      },
      (err: unknown) => {
        if (seq.current !== mine) return;
        setState({ status: 'error', error: toRequestError(err) });
        setRefreshing(false);
      },
    );
  }, [load, nonce, keepData]);

  useEffect(
    () => () => {
      seq.current = -1;
    },
    [],
  );

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const setData = useCallback((data: T) => {
    seq.current += 1; // a pending load must not overwrite what the action just returned
    setState({ status: 'ready', data });
    setRefreshing(false);
  }, []);

  return { state, refreshing, reload, setData };
}
