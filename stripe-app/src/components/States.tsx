import { Banner, Box, Button, Inline, Spinner } from '@stripe/ui-extension-sdk/ui';
import { describeError, type ApiRequestError } from '../data/errors';

export function Loading({ label }: { label: string }) {
  return (
    <Box css={{ stack: 'x', gap: 'small', alignY: 'center', padding: 'medium' }}>
      <Spinner size="small" />
      <Inline>{label}</Inline>
    </Box>
  );
}

/** A failed load: what happened in plain words, and a way to try again. */
export function LoadError({ title, error, onRetry }: { title: string; error: ApiRequestError; onRetry?: () => void }) {
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Banner type="critical" title={title} description={describeError(error)} />
      {onRetry ? (
        <Box>
          <Button onPress={onRetry}>Try again</Button>
        </Box>
      ) : null}
    </Box>
  );
}
