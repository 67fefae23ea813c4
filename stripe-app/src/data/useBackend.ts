import { useMemo } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { createBackendClient, type ApiContext, type BackendClient, type ClientOptions } from './client';

export type ViewContext = Pick<ExtensionContextValue, 'userContext' | 'environment'>;

/** Reads who is calling, the Dashboard mode and the backend URL (manifest constant BACKEND_URL). */
export function apiContextFrom(props: ViewContext): ApiContext {
  const constants = props.environment?.constants;
  const raw =
    constants && typeof constants === 'object' && !Array.isArray(constants)
      ? (constants as Record<string, unknown>).BACKEND_URL
      : undefined;
  return {
    backendUrl: typeof raw === 'string' ? raw : '',
    userId: props.userContext?.id ?? '',
    accountId: props.userContext?.account?.id ?? '',
    mode: props.environment?.mode === 'live' ? 'live' : 'test',
  };
}

/** One client per (backend, user, account, mode); stable across renders. */
export function useBackendClient(props: ViewContext, options?: ClientOptions): BackendClient {
  const ctx = apiContextFrom(props);
  const timeoutMs = options?.timeoutMs;
  return useMemo(
    () =>
      createBackendClient(
        { backendUrl: ctx.backendUrl, userId: ctx.userId, accountId: ctx.accountId, mode: ctx.mode },
        { timeoutMs },
      ),
    [ctx.backendUrl, ctx.userId, ctx.accountId, ctx.mode, timeoutMs],
  );
}
