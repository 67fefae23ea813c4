import { Badge, Banner, Box, Button, Divider, Inline, Select } from '@stripe/ui-extension-sdk/ui';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { LoadError, Loading } from '../../components/States';
import { DESTINATION_LABELS, type DestinationActivityResponse, type DestinationSummary } from '../../data/contracts';
import { formatTime } from '../../format';
import { destinationName, healthBadge, isOAuthConnected } from '../shared/destinationText';
import {
  HUBSPOT_SOURCE,
  useDestinationActivity,
  type ActivitySourcesModel,
  type DestinationActivityModel,
} from './useDestinationActivity';

/** HubSpot, or one of the connected destinations; nothing to choose while there is none. */
export function ActivitySourceSelect({ model }: { model: ActivitySourcesModel }) {
  if (model.destinations.length === 0) return null;
  return (
    <Select label="Activity of" value={model.source} onChange={(ev) => model.setSource(ev.target.value)}>
      <option value={HUBSPOT_SOURCE}>HubSpot</option>
      {model.destinations.map((d) => (
        <option key={d.id} value={d.id}>
          {destinationName(d)}
        </option>
      ))}
    </Select>
  );
}

const COUNT_LABELS = [
  ['synced', 'Synced'],
  ['pending', 'Pending'],
  ['failed', 'Failed'],
] as const;

function Counts({ counts }: { counts: DestinationActivityResponse['counts'] }) {
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ font: 'heading' }}>Customers</Box>
      <Box css={{ stack: 'x', gap: 'large', wrap: 'wrap' }}>
        {COUNT_LABELS.map(([key, label]) => (
          <Box key={key} css={{ stack: 'y', gap: 'xxsmall' }}>
            <Box css={{ font: 'title' }}>{String(counts[key])}</Box>
            <Box css={{ font: 'caption', color: 'secondary' }}>{label}</Box>
          </Box>
        ))}
      </Box>
    </Box>
  );
}

function DeadLetters({ data, vm, kindLabel }: { data: DestinationActivityResponse; vm: DestinationActivityModel; kindLabel: string }) {
  const items = data.deadLetters;
  const busyAll = vm.replaying?.kind === 'all';
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ stack: 'x', distribute: 'space-between', alignY: 'center' }}>
        <Box css={{ font: 'heading' }}>{`Needs attention (${items.length})`}</Box>
        {items.length > 0 ? (
          <Button size="small" onPress={vm.replayAll} pending={busyAll} disabled={vm.replaying !== null && !busyAll}>
            Replay all
          </Button>
        ) : null}
      </Box>
      {items.length === 0 ? (
        <Box css={{ color: 'secondary' }}>{`Nothing failed for good. Customers ${kindLabel} keeps refusing show up here.`}</Box>
      ) : (
        items.map((d) => {
          const busy = vm.replaying?.kind === 'one' && vm.replaying.customerId === d.customerId;
          return (
            <Box key={d.customerId} css={{ stack: 'y', gap: 'xxsmall' }}>
              <Box>{d.message}</Box>
              <Box css={{ font: 'caption', color: 'secondary' }}>
                {[d.customerId, `${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'}`, formatTime(d.failedAt)].join(' · ')}
              </Box>
              <Inline>
                <Button size="small" onPress={() => vm.replayOne(d.customerId)} pending={busy} disabled={vm.replaying !== null && !busy}>
                  Replay
                </Button>
              </Inline>
            </Box>
          );
        })
      )}
    </Box>
  );
}

function RecentWrites({ data, name }: { data: DestinationActivityResponse; name: string }) {
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      {data.recent.length === 0 ? (
        <Box css={{ color: 'secondary' }}>{`Nothing has been written to ${name} yet in this mode.`}</Box>
      ) : (
        data.recent.map((r) => (
          <Box key={`${r.customerId}-${r.syncedAt}`} css={{ stack: 'y', gap: 'xxsmall' }}>
            <Box css={{ fontFamily: 'monospace' }}>{r.customerId}</Box>
            <Box css={{ font: 'caption', color: 'secondary' }}>
              {`${formatTime(r.syncedAt)} · ${r.events === 0 ? 'profile only' : `${r.events} ${r.events === 1 ? 'event' : 'events'} sent`}`}
            </Box>
          </Box>
        ))
      )}
    </Box>
  );
}

/** One destination's activity: health, counts, dead letters with replay, recent writes. */
export function DestinationActivity(props: ExtensionContextValue & { destination: DestinationSummary }) {
  const { destination } = props;
  const vm = useDestinationActivity(props, destination.id);
  const name = destinationName(destination);
  const kindLabel = DESTINATION_LABELS[destination.kind];
  const oauth = isOAuthConnected(destination);
  const badge = healthBadge(destination.health, oauth);
  const { load } = vm;
  return (
    <Box css={{ stack: 'y', gap: 'large' }}>
      <Inline css={{ gap: 'small' }}>
        <Badge type={badge.type}>{badge.label}</Badge>
      </Inline>
      {destination.health.state === 'broken' ? (
        <Banner
          type="critical"
          title={`${kindLabel} refuses ${oauth ? 'our access' : 'the key'}`}
          description={`${destination.health.message ? `${kindLabel} says: “${destination.health.message}”. ` : ''}Nothing is sent to ${name} until ${oauth ? `it is connected with ${kindLabel} again` : 'the key works again'} (see the app’s settings).`}
        />
      ) : null}
      {load.status === 'loading' ? <Loading label={`Loading the activity of ${name}…`} /> : null}
      {load.status === 'error' ? (
        <LoadError title={`The activity of ${name} could not be loaded`} error={load.error} onRetry={vm.reload} />
      ) : null}
      {load.status === 'ready' ? (
        <Box css={{ stack: 'y', gap: 'large' }}>
          <Counts counts={load.data.counts} />
          <Divider />
          {vm.replayNotice ? <Banner type="default" title="Replay" description={vm.replayNotice} /> : null}
          {vm.replayError ? <Banner type="critical" title="Replay" description={vm.replayError} /> : null}
          <DeadLetters data={load.data} vm={vm} kindLabel={kindLabel} />
          <Divider />
          <Box css={{ stack: 'y', gap: 'small' }}>
            <Box css={{ stack: 'x', distribute: 'space-between', alignY: 'bottom' }}>
              <Box css={{ font: 'heading' }}>Recent writes</Box>
              <Button size="small" onPress={vm.reload} pending={vm.refreshing}>
                Refresh
              </Button>
            </Box>
            <RecentWrites data={load.data} name={name} />
          </Box>
        </Box>
      ) : null}
    </Box>
  );
}
