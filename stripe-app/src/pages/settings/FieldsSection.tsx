import { Box, Switch, TextField } from '@stripe/ui-extension-sdk/ui';
import { FIELD_CATALOG, type FieldKey, type SyncSettings } from '../../data/contracts';
import type { FieldErrors } from './formModel';

/** Each Stripe fact: on/off and the HubSpot contact property it is written to. */
export function FieldsSection(props: {
  settings: SyncSettings;
  errors: FieldErrors;
  onToggle: (key: FieldKey, on: boolean) => void;
  onRename: (key: FieldKey, property: string) => void;
}) {
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      <Box css={{ stack: 'y', gap: 'xxsmall' }}>
        <Box css={{ font: 'heading' }}>Fields</Box>
        <Box css={{ font: 'caption', color: 'secondary' }}>
          Property names use lower-case letters, digits and underscores, start with a letter, and may not start
          with hs_. Missing properties are created in HubSpot’s “Stripe” group.
        </Box>
      </Box>
      {FIELD_CATALOG.map((f) => {
        const setting = props.settings.fields[f.key];
        const locked = f.key === 'customerId';
        return (
          <Box key={f.key} css={{ stack: 'y', gap: 'xsmall' }}>
            <Switch
              label={f.label}
              description={locked ? `${f.description} Always on.` : f.description}
              checked={setting.enabled}
              disabled={locked}
              error={props.errors[`fields.${f.key}.enabled`]}
              onChange={(ev) => props.onToggle(f.key, ev.target.checked)}
            />
            <TextField
              label={`HubSpot property for ${f.label}`}
              value={setting.property}
              disabled={!setting.enabled}
              invalid={Boolean(props.errors[`fields.${f.key}.property`])}
              error={props.errors[`fields.${f.key}.property`]}
              onChange={(ev) => props.onRename(f.key, ev.target.value)}
            />
          </Box>
        );
      })}
    </Box>
  );
}
