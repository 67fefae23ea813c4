import { useCallback, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { ReplaySelection } from '../../data/client';
import type { ActivityResponse, EventOutcome, Mode } from '../../data/contracts';
import { describeError, toRequestError, type ApiRequestError } from '../../data/errors';
import { useBackendClient } from '../../data/useBackend';
import { useRemote } from '../../data/useRemote';
import { useOAuthCompletion, type OAuthCompletionModel } from '../shared/useOAuthCompletion';

export const ACTIVITY_LIMIT = 50;

export type OutcomeFilter = EventOutcome | 'all';

/** What a replay works on: HubSpot's dead letters (write again) or events that could not be processed (process again). */
export type ReplayTarget = 'dead_letters' | 'events';

export type ReplayBusy = { of: ReplayTarget; kind: 'one'; id: string } | { of: ReplayTarget; kind: 'all' } | null;

export interface ActivityPageModel {
  mode: Mode;
  load:
    | { status: 'loading' }
    | { status: 'not_connected' }
    | { status: 'error'; error: ApiRequestError }
    | { status: 'ready'; data: ActivityResponse };
  refreshing: boolean;
  /** The shown events answer an older filter: the list is loading. */
  eventsLoading: boolean;
  reload: () => void;
  filter: OutcomeFilter;
  setFilter: (f: OutcomeFilter) => void;
  replaying: ReplayBusy;
  replayNotice: string | null;
  replayError: string | null;
  replayOne: (id: string) => void;
  replayAll: () => void;
  replayEvent: (id: string) => void;
  replayAllEvents: () => void;
  /** The way back from HubSpot (finishing, the portal to confirm, the outcome). */
  oauth: OAuthCompletionModel;
}

type Props = Pick<ExtensionContextValue, 'userContext' | 'environment' | 'oauthContext'>;

/** The drawer's view model: counts, recent events (filterable), dead letters and failed events, and their replay. */
export function useActivityPage(props: Props): ActivityPageModel {
  const client = useBackendClient(props);
  const [filter, setFilter] = useState<OutcomeFilter>('all');
  const load = useCallback(
    () =>
      client
        .getActivity({ outcome: filter === 'all' ? undefined : filter, limit: ACTIVITY_LIMIT })
        .then((activity) => ({ filter, activity })),
    [client, filter],
  );
  // A new filter keeps the counts and dead letters on screen; only the event list waits.
  const remote = useRemote(load, { keepDataOnChange: true });
  const [replaying, setReplaying] = useState<ReplayBusy>(null);
  const [replayNotice, setReplayNotice] = useState<string | null>(null);
  const [replayError, setReplayError] = useState<string | null>(null);
  const { reload } = remote;
  // Connected: what was loaded before (most likely "not connected") is out of date.
  const oauth = useOAuthCompletion(client, props.oauthContext, reload);
  const replay = useCallback(
    (selection: ReplaySelection, busy: NonNullable<ReplayBusy>) => {
      setReplaying(busy);
      setReplayNotice(null);
      setReplayError(null);
      const events = busy.of === 'events';
      (events ? client.replayFailedEvents(selection) : client.replayDeadLetters(selection)).then(
        ({ replayed }) => {
          setReplaying(null);
          setReplayNotice(
            replayed === 0
              ? 'Nothing was replayed: the items were already handled.'
              : events
                ? `${replayed} ${replayed === 1 ? 'event was' : 'events were'} queued to be processed again.`
                : `${replayed} ${replayed === 1 ? 'item was' : 'items were'} queued for another try.`,
          );
          reload();
        },
        (err: unknown) => {
          setReplaying(null);
          setReplayError(`Replay failed: ${describeError(toRequestError(err))}`);
        },
      );
    },
    [client, reload],
  );

  const state = remote.state;
  return {
    mode: client.context.mode,
    load:
      state.status === 'ready'
        ? { status: 'ready', data: state.data.activity }
        : state.status === 'error' && state.error.code === 'not_connected'
          ? { status: 'not_connected' }
          : state,
    refreshing: remote.refreshing,
    eventsLoading: state.status === 'ready' && state.data.filter !== filter,
    reload,
    filter,
    setFilter,
    replaying,
    replayNotice,
    replayError,
    replayOne: useCallback((id: string) => replay({ ids: [id] }, { of: 'dead_letters', kind: 'one', id }), [replay]),
    replayAll: useCallback(() => replay({ all: true }, { of: 'dead_letters', kind: 'all' }), [replay]),
    replayEvent: useCallback((id: string) => replay({ ids: [id] }, { of: 'events', kind: 'one', id }), [replay]),
    replayAllEvents: useCallback(() => replay({ all: true }, { of: 'events', kind: 'all' }), [replay]),
    oauth,
  };
}
