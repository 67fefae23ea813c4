import { Badge, Box, Inline } from '@stripe/ui-extension-sdk/ui';
import type { Mode } from '../data/contracts';
import { MODE_LABEL } from '../format';

/** The Dashboard mode, shown plainly: each mode has its own HubSpot connection, settings and activity. */
export function ModeNotice({ mode, subject }: { mode: Mode; subject: string }) {
  const other: Mode = mode === 'test' ? 'live' : 'test';
  return (
    <Box css={{ stack: 'y', gap: 'xsmall' }}>
      <Inline>
        <Badge type={mode === 'test' ? 'warning' : 'positive'}>{MODE_LABEL[mode]}</Badge>
      </Inline>
      <Box css={{ font: 'caption', color: 'secondary' }}>
        {`${subject} ${mode} mode only. ${MODE_LABEL[other]} has its own; switch the Dashboard to ${other} mode to see it.`}
      </Box>
    </Box>
  );
}
