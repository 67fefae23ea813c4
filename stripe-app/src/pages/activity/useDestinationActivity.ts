import { useCallback, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { DestinationReplaySelection } from '../../data/client';
import type { DestinationActivityResponse, DestinationSummary } from '../../data/contracts';
import { describeError, toRequestError, type ApiRequestError } from '../../data/errors';
import { useBackendClient } from '../../data/useBackend';
import { useRemote } from '../../data/useRemote';
import { useDestinationOAuthReturn, type DestinationOAuthReturn } from '../shared/useDestinationOAuthReturn';

/** Which activity the drawer shows: HubSpot's, or one destination's (by id). */
export const HUBSPOT_SOURCE = 'hubspot';

type Props = Pick<ExtensionContextValue, 'userContext' | 'environment'>;
type SourcesProps = Pick<ExtensionContextValue, 'userContext' | 'environment' | 'oauthContext'>;

export interface ActivitySourcesModel {
  /** The destinations of this mode (none when the backend has none, or could not say: only HubSpot is offered). */
  destinations: DestinationSummary[];
  source: string;
  setSource: (source: string) => void;
  /** The chosen destination, null for HubSpot. */
  selected: DestinationSummary | null;
  /** A destination's way back from "Connect with …" when the Dashboard opened the drawer with it. */
  oauthReturn: DestinationOAuthReturn;
}

/**
 * The filter of the drawer: HubSpot (the default) or one of the connected destinations. It also finishes a
 * destination's OAuth return (the Dashboard may open the drawer with it): the new destination joins the filter.
 */
export function useActivitySources(props: SourcesProps): ActivitySourcesModel {
  const client = useBackendClient(props);
  const remote = useRemote(client.listDestinations);
  const [source, setSource] = useState<string>(HUBSPOT_SOURCE);
  const { reload } = remote;
  const oauthReturn = useDestinationOAuthReturn(client, props.oauthContext, reload);
  const destinations = remote.state.status === 'ready' ? remote.state.data.destinations : [];
  const selected = destinations.find((d) => d.id === source) ?? null;
  return { destinations, source: selected ? source : HUBSPOT_SOURCE, setSource, selected, oauthReturn };
}

export type DestinationReplayBusy = { kind: 'one'; customerId: string } | { kind: 'all' } | null;

export interface DestinationActivityModel {
  load: { status: 'loading' } | { status: 'error'; error: ApiRequestError } | { status: 'ready'; data: DestinationActivityResponse };
  refreshing: boolean;
  reload: () => void;
  replaying: DestinationReplayBusy;
  replayNotice: string | null;
  replayError: string | null;
  replayOne: (customerId: string) => void;
  replayAll: () => void;
}

/** One destination's line of the activity: counts, recent writes, dead letters and their replay. */
export function useDestinationActivity(props: Props, destinationId: string): DestinationActivityModel {
  const client = useBackendClient(props);
  const load = useCallback(() => client.getDestinationActivity(destinationId), [client, destinationId]);
  const remote = useRemote(load);
  const { reload } = remote;
  const [replaying, setReplaying] = useState<DestinationReplayBusy>(null);
  const [replayNotice, setReplayNotice] = useState<string | null>(null);
  const [replayError, setReplayError] = useState<string | null>(null);

  const replay = useCallback(
    (selection: DestinationReplaySelection, busy: NonNullable<DestinationReplayBusy>) => {
      setReplaying(busy);
      setReplayNotice(null);
      setReplayError(null);
      client.replayDestinationDeadLetters(destinationId, selection).then(
        ({ replayed }) => {
          setReplaying(null);
          setReplayNotice(
            replayed === 0
              ? 'Nothing was replayed: the customers were already handled.'
              : `${replayed} ${replayed === 1 ? 'customer was' : 'customers were'} queued for another try.`,
          );
          reload();
        },
        (err: unknown) => {
          setReplaying(null);
          setReplayError(`Replay failed: ${describeError(toRequestError(err))}`);
        },
      );
    },
    [client, destinationId, reload],
  );

  return {
    load: remote.state,
    refreshing: remote.refreshing,
    reload,
    replaying,
    replayNotice,
    replayError,
    replayOne: useCallback((customerId: string) => replay({ customerIds: [customerId] }, { kind: 'one', customerId }), [replay]),
    replayAll: useCallback(() => replay({ all: true }, { kind: 'all' }), [replay]),
  };
}
