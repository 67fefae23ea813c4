import { Badge, Box, Button, Inline, Select } from '@stripe/ui-extension-sdk/ui';
import type { ActivityEvent, DeadLetter, EventOutcome, FailedEvent } from '../../data/contracts';
import { formatTime, OUTCOME_BADGE, OUTCOME_LABEL, OUTCOMES } from '../../format';
import type { OutcomeFilter, ReplayBusy, ReplayTarget } from './useActivityPage';

export function Counts({ counts }: { counts: Record<EventOutcome, number> }) {
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ font: 'heading' }}>Last 24 hours</Box>
      <Box css={{ stack: 'x', gap: 'large', wrap: 'wrap' }}>
        {OUTCOMES.map((o) => (
          <Box key={o} css={{ stack: 'y', gap: 'xxsmall' }}>
            <Box css={{ font: 'title' }}>{String(counts[o] ?? 0)}</Box>
            <Box css={{ font: 'caption', color: 'secondary' }}>{OUTCOME_LABEL[o]}</Box>
          </Box>
        ))}
      </Box>
    </Box>
  );
}

/** What happened to one event, in words: the reason for a skip, HubSpot's message for a failure. */
export function outcomeDetail(e: ActivityEvent): string | null {
  if (!e.reason) return e.outcome === 'pending' ? 'Waiting to be written to HubSpot.' : null;
  switch (e.outcome) {
    case 'skipped':
      return `Skipped: ${e.reason}`;
    case 'failed':
      // Our own error when it could not be processed (its words already say so); HubSpot's message otherwise.
      return e.failure === 'processing' ? e.reason : `HubSpot said: ${e.reason}`;
    case 'ignored':
      return `Ignored: ${e.reason}`;
    default:
      return e.reason;
  }
}

export function OutcomeFilterSelect(props: { value: OutcomeFilter; onChange: (f: OutcomeFilter) => void }) {
  return (
    <Select
      label="Show"
      value={props.value}
      onChange={(ev) => props.onChange(ev.target.value as OutcomeFilter)}
    >
      <option value="all">All events</option>
      {OUTCOMES.map((o) => (
        <option key={o} value={o}>
          {OUTCOME_LABEL[o]}
        </option>
      ))}
    </Select>
  );
}

export function EventRows({ events, filter }: { events: ActivityEvent[]; filter: OutcomeFilter }) {
  if (events.length === 0) {
    return (
      <Box css={{ color: 'secondary' }}>
        {filter === 'all' ? 'No events received yet in this mode.' : `No ${OUTCOME_LABEL[filter].toLowerCase()} events.`}
      </Box>
    );
  }
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      {events.map((e) => {
        const detail = outcomeDetail(e);
        return (
          <Box key={e.id} css={{ stack: 'y', gap: 'xxsmall' }}>
            <Box css={{ stack: 'x', gap: 'small', distribute: 'space-between', alignY: 'center' }}>
              <Box css={{ fontFamily: 'monospace' }}>{e.type}</Box>
              <Badge type={OUTCOME_BADGE[e.outcome]}>{OUTCOME_LABEL[e.outcome]}</Badge>
            </Box>
            {detail ? <Box css={{ font: 'caption' }}>{detail}</Box> : null}
            <Box css={{ font: 'caption', color: 'secondary' }}>
              {[formatTime(e.created), e.customerId, e.id].filter(Boolean).join(' · ')}
            </Box>
          </Box>
        );
      })}
    </Box>
  );
}

export function DeadLetters(props: {
  items: DeadLetter[];
  replaying: ReplayBusy;
  onReplay: (id: string) => void;
  onReplayAll: () => void;
}) {
  const { items, replaying } = props;
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ stack: 'x', distribute: 'space-between', alignY: 'center' }}>
        <Box css={{ font: 'heading' }}>{`Needs attention (${items.length})`}</Box>
        {items.length > 0 ? (
          <Button size="small" onPress={props.onReplayAll} pending={isBusy(replaying, 'dead_letters')} disabled={replaying !== null && !isBusy(replaying, 'dead_letters')}>
            Replay all
          </Button>
        ) : null}
      </Box>
      {items.length === 0 ? (
        <Box css={{ color: 'secondary' }}>Nothing failed for good. Failed writes that HubSpot keeps refusing show up here.</Box>
      ) : (
        items.map((d) => (
          <Box key={d.id} css={{ stack: 'y', gap: 'xxsmall' }}>
            <Box>{d.message}</Box>
            <Box css={{ font: 'caption', color: 'secondary' }}>
              {[d.customerId, d.eventId, `${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'}`, formatTime(d.createdAt)]
                .filter(Boolean)
                .join(' · ')}
            </Box>
            <Inline>
              <Button
                size="small"
                onPress={() => props.onReplay(d.id)}
                pending={isBusy(replaying, 'dead_letters', d.id)}
                disabled={replaying !== null && !isBusy(replaying, 'dead_letters', d.id)}
              >
                Replay
              </Button>
            </Inline>
          </Box>
        ))
      )}
    </Box>
  );
}

/** Whether `replaying` is the replay of all of `of` (no `id`), or of that one item. */
function isBusy(replaying: ReplayBusy, of: ReplayTarget, id?: string): boolean {
  if (!replaying || replaying.of !== of) return false;
  return id === undefined ? replaying.kind === 'all' : replaying.kind === 'one' && replaying.id === id;
}

/**
 * Events that could not be processed (every retry failed, or no job ran them): nothing of them reached the
 * customer. Replay processes them again; one whose data was removed after the retention period cannot be.
 */
export function FailedEvents(props: {
  items: FailedEvent[];
  replaying: ReplayBusy;
  onReplay: (id: string) => void;
  onReplayAll: () => void;
}) {
  const { items, replaying } = props;
  if (items.length === 0) return null;
  const replayable = items.filter((e) => e.replayable).length;
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ stack: 'x', distribute: 'space-between', alignY: 'center' }}>
        <Box css={{ font: 'heading' }}>{`Could not be processed (${items.length})`}</Box>
        {replayable > 0 ? (
          <Button size="small" onPress={props.onReplayAll} pending={isBusy(replaying, 'events')} disabled={replaying !== null && !isBusy(replaying, 'events')}>
            Replay all
          </Button>
        ) : null}
      </Box>
      <Box css={{ color: 'secondary' }}>These events reached us but were never applied. Replay processes them again.</Box>
      {items.map((e) => (
        <Box key={e.id} css={{ stack: 'y', gap: 'xxsmall' }}>
          <Box css={{ fontFamily: 'monospace' }}>{e.type}</Box>
          <Box css={{ font: 'caption' }}>{e.reason}</Box>
          <Box css={{ font: 'caption', color: 'secondary' }}>{[formatTime(e.created), e.id, `failed ${formatTime(e.failedAt)}`].join(' · ')}</Box>
          {e.replayable ? (
            <Inline>
              <Button
                size="small"
                onPress={() => props.onReplay(e.id)}
                pending={isBusy(replaying, 'events', e.id)}
                disabled={replaying !== null && !isBusy(replaying, 'events', e.id)}
              >
                Replay
              </Button>
            </Inline>
          ) : (
            <Box css={{ font: 'caption', color: 'secondary' }}>
              Its data was removed after the retention period, so it cannot be replayed: an import from the settings brings its facts back.
            </Box>
          )}
        </Box>
      ))}
    </Box>
  );
}
