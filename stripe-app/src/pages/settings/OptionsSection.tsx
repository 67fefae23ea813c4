import { Box, Switch } from '@stripe/ui-extension-sdk/ui';
import type { SyncOptions, SyncSettings } from '../../data/contracts';
import { OPTION_KEYS, OPTION_TEXT, type FieldErrors } from './formModel';

export function OptionsSection(props: {
  settings: SyncSettings;
  errors: FieldErrors;
  onToggle: (key: keyof SyncOptions, on: boolean) => void;
}) {
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      <Box css={{ font: 'heading' }}>Options</Box>
      {OPTION_KEYS.map((key) => (
        <Switch
          key={key}
          label={OPTION_TEXT[key].label}
          description={OPTION_TEXT[key].description}
          checked={props.settings.options[key]}
          error={props.errors[`options.${key}`]}
          onChange={(ev) => props.onToggle(key, ev.target.checked)}
        />
      ))}
    </Box>
  );
}
