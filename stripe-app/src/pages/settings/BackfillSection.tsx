import { Badge, Banner, Box, Button, Inline, type BoxProps } from '@stripe/ui-extension-sdk/ui';
import type { BackfillProgress } from '../../data/contracts';
import { formatDuration, formatTime } from '../../format';
import type { BackfillModel } from './useBackfill';

type Width = NonNullable<NonNullable<BoxProps['css']>['width']>;

/** A percentage as a bar in twelfths, the finest the layout system offers. */
function barWidth(percent: number): Width | null {
  const n = Math.round((Math.min(100, Math.max(0, percent)) / 100) * 12);
  if (n === 0) return null;
  return (n === 12 ? 'fill' : `${n}/12`) as Width;
}

const STATUS: Record<BackfillProgress['status'], { label: string; badge: 'info' | 'positive' | 'neutral' | 'negative' }> = {
  running: { label: 'Running', badge: 'info' },
  completed: { label: 'Completed', badge: 'positive' },
  canceled: { label: 'Canceled', badge: 'neutral' },
  failed: { label: 'Failed', badge: 'negative' },
};

function ProgressLine({ p }: { p: BackfillProgress }) {
  const counted = p.total !== null ? `${p.done} of ${p.total}` : `${p.done}`;
  const pct = p.percent !== null ? `${Math.round(p.percent)}%` : null;
  const eta = p.status === 'running' && p.etaSeconds !== null ? `about ${formatDuration(p.etaSeconds)} left` : null;
  const width = p.percent !== null ? barWidth(p.percent) : null;
  return (
    <Box css={{ stack: 'y', gap: 'xsmall' }}>
      <Inline>
        <Badge type={STATUS[p.status].badge}>{STATUS[p.status].label}</Badge>
      </Inline>
      {p.percent !== null ? (
        <Box css={{ backgroundColor: 'container', borderRadius: 'rounded', height: 8, width: 'fill' }}>
          {width ? <Box css={{ backgroundColor: 'surface', borderRadius: 'rounded', height: 8, width }}>{''}</Box> : ''}
        </Box>
      ) : null}
      <Box>{[pct, `${counted} ${p.phase === 'done' ? 'records' : p.phase} imported`, eta].filter(Boolean).join(' · ')}</Box>
      <Box css={{ font: 'caption', color: 'secondary' }}>
        {`Started ${formatTime(p.startedAt)}${p.finishedAt ? `, finished ${formatTime(p.finishedAt)}` : ''}`}
      </Box>
      {p.error ? <Banner type="critical" title="The import stopped" description={p.error} /> : null}
    </Box>
  );
}

/** Import existing customers, subscriptions, invoices and charges into HubSpot. */
export function BackfillSection({ model }: { model: BackfillModel }) {
  if (!model.available) return null;
  const p = model.progress;
  const running = p?.status === 'running';
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ stack: 'y', gap: 'xxsmall' }}>
        <Box css={{ font: 'heading' }}>Import existing data</Box>
        <Box css={{ font: 'caption', color: 'secondary' }}>
          New events sync on their own. Import once to bring customers you already have into HubSpot.
        </Box>
      </Box>
      {model.error ? <Banner type="critical" title="Import" description={model.error} /> : null}
      {p ? <ProgressLine p={p} /> : <Box>No import has run in this mode yet.</Box>}
      <Box>
        {running ? (
          <Button onPress={model.cancel} pending={model.busy === 'canceling'}>
            Cancel import
          </Button>
        ) : (
          <Button onPress={model.start} pending={model.busy === 'starting'}>
            {p ? 'Import again' : 'Start import'}
          </Button>
        )}
      </Box>
    </Box>
  );
}
