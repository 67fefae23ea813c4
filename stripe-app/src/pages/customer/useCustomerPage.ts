import { useCallback, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { CustomerSyncResponse, Mode } from '../../data/contracts';
import { describeError, toRequestError, type ApiRequestError } from '../../data/errors';
import { useBackendClient } from '../../data/useBackend';
import { useRemote } from '../../data/useRemote';
import { useDestinationOAuthReturn, type DestinationOAuthReturn } from '../shared/useDestinationOAuthReturn';

export type SyncAction = { kind: 'idle' } | { kind: 'syncing' } | { kind: 'queued' } | { kind: 'failed'; message: string };

export interface CustomerPageModel {
  mode: Mode;
  customerId: string;
  load:
    | { status: 'loading' }
    | { status: 'not_connected' }
    /** The backend has no record of this customer yet (no event seen). */
    | { status: 'unknown_customer' }
    | { status: 'error'; error: ApiRequestError }
    | { status: 'ready'; data: CustomerSyncResponse };
  reload: () => void;
  sync: SyncAction;
  syncNow: () => void;
  /** A destination's way back from "Connect with …" when the Dashboard opened this view with it. */
  oauthReturn: DestinationOAuthReturn;
}

type Props = Pick<ExtensionContextValue, 'userContext' | 'environment' | 'oauthContext'>;

/** The customer page's view model: the linked contact, sync state, last synced facts, "sync now". */
export function useCustomerPage(props: Props): CustomerPageModel {
  const client = useBackendClient(props);
  const customerId = props.environment?.objectContext?.id ?? '';
  const load = useCallback(() => client.getCustomer(customerId), [client, customerId]);
  const remote = useRemote(load);
  const [sync, setSync] = useState<SyncAction>({ kind: 'idle' });

  const { reload } = remote;
  // A destination connected here: the customer's states in the destinations are read again.
  const oauthReturn = useDestinationOAuthReturn(client, props.oauthContext, reload);
  const syncNow = useCallback(() => {
    setSync({ kind: 'syncing' });
    client.syncCustomer(customerId).then(
      (res) => {
        setSync(res.queued ? { kind: 'queued' } : { kind: 'failed', message: 'The sync service did not queue it.' });
        reload();
      },
      (err: unknown) => setSync({ kind: 'failed', message: describeError(toRequestError(err)) }),
    );
  }, [client, customerId, reload]);

  const state = remote.state;
  let view: CustomerPageModel['load'] = state;
  if (state.status === 'error' && state.error.code === 'not_connected') view = { status: 'not_connected' };
  if (state.status === 'error' && state.error.code === 'not_found') view = { status: 'unknown_customer' };

  return { mode: client.context.mode, customerId, load: view, reload, sync, syncNow, oauthReturn };
}
