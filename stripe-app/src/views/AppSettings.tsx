import { Banner, Box, Divider, SettingsView } from '@stripe/ui-extension-sdk/ui';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { ModeNotice } from '../components/ModeNotice';
import { LoadError, Loading } from '../components/States';
import { BackfillSection } from '../pages/settings/BackfillSection';
import { ConnectionSection } from '../pages/settings/ConnectionSection';
import { CrmSection } from '../pages/settings/CrmSection';
import { DestinationsSection } from '../pages/settings/DestinationsSection';
import { EventsSection } from '../pages/settings/EventsSection';
import { FieldsSection } from '../pages/settings/FieldsSection';
import { OptionsSection } from '../pages/settings/OptionsSection';
import { unplacedErrors } from '../pages/settings/formModel';
import { useSettingsPage } from '../pages/settings/useSettingsPage';

/**
 * Viewport `settings`: the HubSpot connection, events, field mapping, options, the companies, deals, timeline
 * and tickets, and the other destinations (Klaviyo, Loops, Intercom, Salesforce) of the current mode; finishes the way back of
 * "Connect with HubSpot" and of a destination's "Connect with …".
 */
export function AppSettings(props: ExtensionContextValue) {
  const vm = useSettingsPage(props);
  const general = unplacedErrors(vm.errors);
  return (
    <SettingsView onSave={vm.onSave} statusMessage={vm.statusMessage}>
      <Box css={{ stack: 'y', gap: 'large' }}>
        <ModeNotice mode={vm.mode} subject="These settings and this HubSpot connection apply to" />
        {vm.load.status === 'loading' ? <Loading label="Loading settings…" /> : null}
        {vm.load.status === 'error' ? (
          <LoadError title="Settings could not be loaded" error={vm.load.error} onRetry={vm.reload} />
        ) : null}
        {vm.draft ? (
          <Box css={{ stack: 'y', gap: 'large' }}>
            {vm.save.kind === 'failed' ? (
              <Banner type="critical" title="Settings were not saved" description={vm.save.message} />
            ) : null}
            {general.length > 0 ? (
              <Banner type="critical" title="Settings were not saved" description={general.join(' ')} />
            ) : null}
            {vm.isDefault && !vm.dirty ? (
              <Banner
                title="Recommended settings"
                description="Nothing has been saved for this mode yet: the recommended events and fields are selected. Review them and save."
              />
            ) : null}
            <ConnectionSection model={vm.connection} mode={vm.mode} />
            <Divider />
            <EventsSection settings={vm.draft} errors={vm.errors} onToggle={vm.toggleEvent} />
            <Divider />
            <FieldsSection
              settings={vm.draft}
              errors={vm.errors}
              onToggle={vm.toggleField}
              onRename={vm.renameField}
            />
            <Divider />
            <OptionsSection settings={vm.draft} errors={vm.errors} onToggle={vm.toggleOption} />
            <Divider />
            <CrmSection
              settings={vm.draft}
              errors={vm.errors}
              connectionKind={vm.connection.connection?.kind ?? null}
              onChange={vm.changeCrm}
            />
            {vm.destinations.available ? (
              <>
                <Divider />
                <DestinationsSection model={vm.destinations} mode={vm.mode} />
              </>
            ) : null}
            <Divider />
            <BackfillSection model={vm.backfill} />
          </Box>
        ) : null}
      </Box>
    </SettingsView>
  );
}

export default AppSettings;
