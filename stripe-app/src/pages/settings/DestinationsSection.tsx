import { Badge, Banner, Box, Button, Checkbox, Inline, Select, Switch, TextField } from '@stripe/ui-extension-sdk/ui';
import { LoadError, Loading } from '../../components/States';
import {
  DELETION_CHOICES,
  DESTINATION_EVENT_CATALOG,
  DESTINATION_KINDS,
  DESTINATION_LABELS,
  DESTINATION_PROPERTY_PATTERNS,
  FIELD_CATALOG,
  INTERCOM_REGION_LABELS,
  INTERCOM_REGIONS,
  SALESFORCE_ENVIRONMENT_LABELS,
  SALESFORCE_ENVIRONMENTS,
  type DestinationKind,
  type DestinationSummary,
  type Mode,
} from '../../data/contracts';
import { formatTime } from '../../format';
import {
  countsText,
  credentialText,
  deletionChoiceLabel,
  destinationName,
  healthBadge,
  isOAuthConnected,
  KEY_NOUN,
  kindText,
  RECORD_NOUN,
} from '../shared/destinationText';
import { takesKey, type DestinationEditor, type DestinationsModel } from './useDestinations';

/** The paths the editor shows next to a control; any other error goes in the editor's banner. */
function placedPath(path: string): boolean {
  return path === 'events' || path === 'onCustomerDeleted' || /^fields\.[A-Za-z]+\.(enabled|property)$/.test(path);
}

const KEY_HELP: Record<DestinationKind, string> = {
  klaviyo: 'A private API key from Klaviyo (Settings › API keys) that can read and write profiles and events.',
  loops: 'An API key from Loops (Settings › API).',
  intercom: 'An access token of an app in your Intercom workspace (Developer Hub › your app › Authentication) that can read and write contacts, data attributes and events.',
  salesforce: 'Salesforce connects with your Salesforce login (OAuth): it has no API key. The sync writes to the Stripe fields (…__c) of your org’s contacts; the connection checks that they exist.',
};

/** What follows "Connect with …" in the form: the key is the other way, where the kind has one. */
const OAUTH_ALTERNATIVE: Record<DestinationKind, string> = {
  klaviyo: ' Or use a private API key below.',
  loops: '',
  intercom: ' Or use an access token below.',
  salesforce: '',
};

/** "Connect with …": the authorize URL the backend issued, opened in a new tab; its way back opens the app again. */
function OAuthOffer({ model, mode }: { model: DestinationsModel; mode: Mode }) {
  const form = model.add;
  const offer = model.oauthOffer;
  if (!form || !offer) return null;
  const label = DESTINATION_LABELS[offer.kind];
  switch (offer.status) {
    case 'checking':
      return <Loading label={`Checking Connect with ${label}…`} />;
    case 'ready':
      return (
        <Box css={{ stack: 'y', gap: 'xsmall' }}>
          <Box>
            <Button type="primary" href={offer.url} target="_blank" disabled={form.busy}>
              {`Connect with ${label}`}
            </Button>
          </Box>
          <Box css={{ font: 'caption', color: 'secondary' }}>
            {`Approve this app in ${label}; you come back here and ${label} is connected for ${mode} mode.${OAUTH_ALTERNATIVE[offer.kind]}`}
          </Box>
        </Box>
      );
    case 'not_configured':
      // A kind with a key keeps its key form; one without (Salesforce) cannot be connected here.
      return takesKey(offer.kind) ? null : (
        <Banner
          type="caution"
          title={`${label} is not available`}
          description={`${label} is not set up on this backend: the sync service has no ${label} OAuth client, so ${label} can’t be connected yet. Contact the app’s support.`}
        />
      );
    case 'failed':
      return takesKey(offer.kind) ? null : (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Banner type="critical" title={`Connect with ${label} could not be started`} description={offer.message} />
          <Box>
            <Button onPress={model.retryOAuthOffer}>Try again</Button>
          </Box>
        </Box>
      );
  }
}

function AddDestination({ model, mode }: { model: DestinationsModel; mode: Mode }) {
  const form = model.add;
  if (!form) {
    if (model.addableKinds.length === 0) return null;
    return (
      <Box>
        <Button onPress={model.openAdd}>Add destination</Button>
      </Box>
    );
  }
  const label = DESTINATION_LABELS[form.kind];
  const keyed = takesKey(form.kind);
  return (
    <Box css={{ stack: 'y', gap: 'small', padding: 'medium', borderRadius: 'medium', backgroundColor: 'container' }}>
      <Box css={{ font: 'subheading' }}>Add destination</Box>
      {form.error ? <Banner type="critical" title="Destination not connected" description={form.error} /> : null}
      <Select
        label="Destination"
        value={form.kind}
        disabled={form.busy}
        onChange={(ev) => {
          const kind = DESTINATION_KINDS.find((k) => k === ev.target.value);
          if (kind) model.setAddKind(kind);
        }}
      >
        {model.addableKinds.map((k) => (
          <option key={k} value={k}>
            {DESTINATION_LABELS[k]}
          </option>
        ))}
      </Select>
      {form.kind === 'intercom' ? (
        <Select
          label="Region"
          description="Where your Intercom workspace is hosted: its API is at that region’s address."
          value={form.region}
          disabled={form.busy}
          onChange={(ev) => {
            const region = INTERCOM_REGIONS.find((r) => r === ev.target.value);
            if (region) model.setRegion(region);
          }}
        >
          {INTERCOM_REGIONS.map((r) => (
            <option key={r} value={r}>
              {INTERCOM_REGION_LABELS[r]}
            </option>
          ))}
        </Select>
      ) : null}
      {form.kind === 'salesforce' ? (
        <Select
          label="Salesforce environment"
          description="Where your org signs in: a production org, or a sandbox."
          value={form.environment}
          disabled={form.busy}
          onChange={(ev) => {
            const environment = SALESFORCE_ENVIRONMENTS.find((e) => e === ev.target.value);
            if (environment) model.setEnvironment(environment);
          }}
        >
          {SALESFORCE_ENVIRONMENTS.map((e) => (
            <option key={e} value={e}>
              {SALESFORCE_ENVIRONMENT_LABELS[e]}
            </option>
          ))}
        </Select>
      ) : null}
      <OAuthOffer model={model} mode={mode} />
      {keyed ? (
        <TextField
          label={form.kind === 'intercom' ? 'Access token' : 'API key'}
          type="password"
          autoComplete="off"
          description={`${KEY_HELP[form.kind]} It is checked with ${label}, stored encrypted for ${mode} mode, and never shown again.`}
          value={form.apiKey}
          disabled={form.busy}
          onChange={(ev) => model.setApiKey(ev.target.value)}
        />
      ) : (
        <Box css={{ font: 'caption', color: 'secondary' }}>{KEY_HELP[form.kind]}</Box>
      )}
      <Box css={{ stack: 'x', gap: 'small' }}>
        {keyed ? (
          <Button type="primary" onPress={model.submitAdd} pending={form.busy}>
            {`Connect ${label}`}
          </Button>
        ) : null}
        <Button onPress={model.closeAdd} disabled={form.busy}>
          Cancel
        </Button>
      </Box>
    </Box>
  );
}

function Editor({ model, editor, destination }: { model: DestinationsModel; editor: DestinationEditor; destination: DestinationSummary }) {
  const { kind, draft, errors, save } = editor;
  const label = DESTINATION_LABELS[kind];
  const chosen = new Set<string>(draft.events);
  const general = Object.entries(errors)
    .filter(([path]) => !placedPath(path))
    .map(([, message]) => message);
  const status =
    save.kind === 'invalid'
      ? 'Fix the highlighted fields, then save again.'
      : save.kind === 'failed'
        ? `Not saved: ${save.message}`
        : null;
  return (
    <Box css={{ stack: 'y', gap: 'medium', padding: 'medium', borderRadius: 'medium', backgroundColor: 'container' }}>
      <Box css={{ font: 'subheading' }}>{`Settings for ${destinationName(destination)}`}</Box>
      {general.length > 0 ? <Banner type="critical" title="Settings not saved" description={general.join(' ')} /> : null}
      <Box css={{ stack: 'y', gap: 'small' }}>
        <Box css={{ font: 'bodyEmphasized' }}>Events</Box>
        {errors.events ? <Banner type="critical" title="Events" description={errors.events} /> : null}
        {DESTINATION_EVENT_CATALOG.map((e) => (
          <Checkbox
            key={e.key}
            label={e.name}
            description={e.description}
            checked={chosen.has(e.key)}
            onChange={(ev) => model.toggleEvent(e.key, ev.target.checked)}
          />
        ))}
      </Box>
      <Box css={{ stack: 'y', gap: 'small' }}>
        <Box css={{ font: 'bodyEmphasized' }}>Fields</Box>
        <Box css={{ font: 'caption', color: 'secondary' }}>{`${label} property names: ${DESTINATION_PROPERTY_PATTERNS[kind].message}.`}</Box>
        {FIELD_CATALOG.map((f) => {
          const setting = draft.fields[f.key];
          const locked = f.key === 'customerId';
          const propertyError = errors[`fields.${f.key}.property`];
          return (
            <Box key={f.key} css={{ stack: 'y', gap: 'xsmall' }}>
              <Switch
                label={`Send ${f.label} to ${label}`}
                description={locked ? `${f.description} Always on.` : f.description}
                checked={setting.enabled}
                disabled={locked}
                error={errors[`fields.${f.key}.enabled`]}
                onChange={(ev) => model.toggleField(f.key, ev.target.checked)}
              />
              <TextField
                label={`${label} property for ${f.label}`}
                value={setting.property}
                disabled={!setting.enabled && !propertyError}
                invalid={Boolean(propertyError)}
                error={propertyError}
                onChange={(ev) => model.renameField(f.key, ev.target.value)}
              />
            </Box>
          );
        })}
      </Box>
      <Select
        label="When a Stripe customer is deleted"
        description={`What happens to the customer’s ${label} ${RECORD_NOUN[kind]}.`}
        value={draft.onCustomerDeleted}
        invalid={Boolean(errors.onCustomerDeleted)}
        error={errors.onCustomerDeleted}
        onChange={(ev) => {
          const choice = DELETION_CHOICES[kind].find((c) => c === ev.target.value);
          if (choice) model.setOnDeleted(choice);
        }}
      >
        {DELETION_CHOICES[kind].map((c) => (
          <option key={c} value={c}>
            {deletionChoiceLabel(kind, c)}
          </option>
        ))}
      </Select>
      {status ? <Box css={{ color: save.kind === 'failed' ? 'critical' : 'attention' }}>{status}</Box> : null}
      <Box css={{ stack: 'x', gap: 'small' }}>
        <Button type="primary" onPress={model.saveEditor} pending={save.kind === 'saving'}>
          Save destination settings
        </Button>
        <Button onPress={model.closeEditor} disabled={save.kind === 'saving'}>
          Discard changes
        </Button>
      </Box>
    </Box>
  );
}

function Destination({ model, d }: { model: DestinationsModel; d: DestinationSummary }) {
  const oauth = isOAuthConnected(d);
  const badge = healthBadge(d.health, oauth);
  const test = model.tests[d.id];
  const editing = model.editor?.id === d.id ? model.editor : null;
  const confirming = model.confirming === d.id;
  const error = model.errors[d.id];
  const name = destinationName(d);
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Inline css={{ gap: 'small' }}>
        <Box css={{ font: 'bodyEmphasized' }}>{name}</Box>
        <Badge type={badge.type}>{badge.label}</Badge>
      </Inline>
      <Box css={{ font: 'caption', color: 'secondary' }}>
        {`${kindText(d)} · ${credentialText(d)} · connected ${formatTime(d.connectedAt)}`}
      </Box>
      <Box>{countsText(d.counts)}</Box>
      {d.health.state === 'broken' ? (
        <Banner
          type="critical"
          title={`${DESTINATION_LABELS[d.kind]} refuses ${oauth ? 'our access' : 'the key'}`}
          description={`${d.health.message ? `${DESTINATION_LABELS[d.kind]} says: “${d.health.message}”. ` : ''}${
            oauth
              ? `Nothing is sent to ${name} until it is connected again: disconnect it and connect with ${DESTINATION_LABELS[d.kind]} again.`
              : `Nothing is sent to ${name} until the key works again: disconnect it and connect it with a new key.`
          }${d.health.checkedAt ? ` Checked ${formatTime(d.health.checkedAt)}.` : ''}`}
        />
      ) : null}
      {test && !test.busy ? (
        <Banner
          type={test.ok ? 'default' : 'critical'}
          title={test.ok ? `${name} answered` : `${name} test failed`}
          description={test.message}
        />
      ) : null}
      {error ? <Banner type="critical" title={`${name} was not disconnected`} description={error} /> : null}
      {confirming ? (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Banner
            type="caution"
            title={`Disconnect ${name}?`}
            description={
              oauth
                ? `Nothing more is sent to ${name} in this mode and its access is revoked and deleted. What it already holds stays there. To send again, connect with ${DESTINATION_LABELS[d.kind]} again.`
                : `Nothing more is sent to ${name} in this mode and its ${KEY_NOUN[d.kind]} is deleted. What it already holds stays there. To send again, connect it with a key.`
            }
          />
          <Box css={{ stack: 'x', gap: 'small' }}>
            <Button type="destructive" onPress={() => model.disconnect(d.id)} pending={model.disconnecting === d.id}>
              {`Yes, disconnect ${DESTINATION_LABELS[d.kind]}`}
            </Button>
            <Button onPress={model.cancelDisconnect} disabled={model.disconnecting === d.id}>
              Keep it connected
            </Button>
          </Box>
        </Box>
      ) : (
        <Box css={{ stack: 'x', gap: 'small', wrap: 'wrap' }}>
          <Button size="small" onPress={() => model.test(d.id)} pending={test?.busy === true}>
            Test connection
          </Button>
          {editing ? null : (
            <Button size="small" onPress={() => model.openEditor(d.id)}>
              Edit settings
            </Button>
          )}
          <Button size="small" type="destructive" onPress={() => model.askDisconnect(d.id)}>
            Disconnect
          </Button>
        </Box>
      )}
      {editing ? <Editor model={model} editor={editing} destination={d} /> : null}
    </Box>
  );
}

/** Klaviyo, Loops, Intercom and Salesforce beside HubSpot: each with its key or OAuth connection, health, counts, settings and disconnection. */
export function DestinationsSection({ model, mode }: { model: DestinationsModel; mode: Mode }) {
  if (!model.available) return null;
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      <Box css={{ stack: 'y', gap: 'xxsmall' }}>
        <Box css={{ font: 'heading' }}>Destinations</Box>
        <Box css={{ font: 'caption', color: 'secondary' }}>
          {`Besides HubSpot, the same facts of each customer can go to Klaviyo, Loops, Intercom or Salesforce. Each destination has its own connection, events, fields and activity in ${mode} mode.`}
        </Box>
      </Box>
      {model.load.status === 'loading' ? <Loading label="Loading destinations…" /> : null}
      {model.load.status === 'error' ? (
        <LoadError title="Destinations could not be loaded" error={model.load.error} onRetry={model.reload} />
      ) : null}
      {model.load.status === 'ready' ? (
        <Box css={{ stack: 'y', gap: 'large' }}>
          {model.notice ? <Banner type="default" title="Destinations" description={model.notice} /> : null}
          {model.oauthReturn.phase === 'completing' ? <Loading label={`Connecting ${DESTINATION_LABELS[model.oauthReturn.kind]}…`} /> : null}
          {model.oauthReturn.phase === 'error' ? (
            <Banner type="critical" title={`${DESTINATION_LABELS[model.oauthReturn.kind]} not connected`} description={model.oauthReturn.message} />
          ) : null}
          {model.destinations.length === 0 ? <Box>{`No destination is connected for ${mode} mode.`}</Box> : null}
          {model.destinations.map((d) => (
            <Destination key={d.id} model={model} d={d} />
          ))}
          <AddDestination model={model} mode={mode} />
        </Box>
      ) : null}
    </Box>
  );
}
