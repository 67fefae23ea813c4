import { Banner, Box, Select, Switch, TextField } from '@stripe/ui-extension-sdk/ui';
import {
  TICKET_PRIORITIES,
  type CrmObjectSettings,
  type HubSpotConnection,
  type SyncSettings,
  type TicketPriority,
} from '../../data/contracts';
import {
  crmPartErrors,
  crmPath,
  pipelineIdFromInput,
  pipelineIdToInput,
  type CrmPart,
  type FieldErrors,
} from './formModel';

type ChangeCrm = <P extends CrmPart>(part: P, change: Partial<CrmObjectSettings[P]>) => void;

interface PartProps {
  crm: CrmObjectSettings;
  errors: FieldErrors;
  onChange: ChangeCrm;
}

export const AMOUNT_LABEL: Record<CrmObjectSettings['deals']['amount'], string> = {
  mrr: 'Monthly recurring revenue (MRR)',
  arr: 'Annual recurring revenue (ARR)',
};

export const PRIORITY_LABEL: Record<TicketPriority, string> = {
  LOW: 'Low',
  MEDIUM: 'Medium',
  HIGH: 'High',
  URGENT: 'Urgent',
};

/** Where the timeline's movements land for this mode's connection (none connected: nothing is said). */
export function timelineTarget(kind: HubSpotConnection['kind'] | null): string | null {
  if (kind === 'oauth') return 'This mode is connected with the marketplace app: movements are written as timeline events.';
  if (kind === 'private_app') return 'This mode is connected with a private app token: movements are written as notes.';
  return null;
}

/** A control under a part's switch: greyed while the part is off, unless it carries an error to fix. */
const idle = (partOn: boolean, error: string | undefined) => !partOn && !error;

function PartHeading(props: { title: string; errors: string[] }) {
  return (
    <>
      <Box css={{ font: 'subheading' }}>{props.title}</Box>
      {props.errors.length > 0 ? (
        <Banner type="critical" title={props.title} description={props.errors.join(' ')} />
      ) : null}
    </>
  );
}

function CompaniesPart({ crm, errors, onChange }: PartProps) {
  const c = crm.companies;
  const createError = errors[crmPath('companies', 'create')];
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <PartHeading title="Companies" errors={crmPartErrors(errors, 'companies')} />
      <Switch
        label="Link contacts to companies"
        description="A customer with a business name or an email on a company domain is linked to a HubSpot company, found by its Stripe customer ID, then by the email’s domain (free email domains such as gmail.com are skipped). The company gets the Stripe customer ID, MRR and subscription status. On by default."
        checked={c.enabled}
        error={errors[crmPath('companies', 'enabled')]}
        onChange={(ev) => onChange('companies', { enabled: ev.target.checked })}
      />
      <Switch
        label="Create missing companies"
        description="Create a company when none matches. Off: customers are only linked to companies that already exist. On by default."
        checked={c.create}
        disabled={idle(c.enabled, createError)}
        error={createError}
        onChange={(ev) => onChange('companies', { create: ev.target.checked })}
      />
    </Box>
  );
}

function DealsPart({ crm, errors, onChange }: PartProps) {
  const d = crm.deals;
  const amountError = errors[crmPath('deals', 'amount')];
  const checkoutError = errors[crmPath('deals', 'checkoutDeals')];
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <PartHeading title="Deals" errors={crmPartErrors(errors, 'deals')} />
      <Switch
        label="A deal for each subscription"
        description="Each subscription is one deal in the “Stripe subscriptions” pipeline, which is created in HubSpot if it is missing. The deal is named after the plan, its stage follows the subscription (trialing, active, past due, canceled), a plan change updates the same deal, and it is linked to the contact and company. On by default."
        checked={d.enabled}
        error={errors[crmPath('deals', 'enabled')]}
        onChange={(ev) => onChange('deals', { enabled: ev.target.checked })}
      />
      <Select
        label="Deal amount"
        description="The subscription’s recurring revenue, in its own currency. Default: monthly (MRR)."
        value={d.amount}
        disabled={idle(d.enabled, amountError)}
        invalid={Boolean(amountError)}
        error={amountError}
        onChange={(ev) => onChange('deals', { amount: ev.target.value === 'arr' ? 'arr' : 'mrr' })}
      >
        <option value="mrr">{AMOUNT_LABEL.mrr}</option>
        <option value="arr">{AMOUNT_LABEL.arr}</option>
      </Select>
      <Switch
        label="Deals for one-off Checkout payments"
        description="Also a closed-won deal for each one-off payment made through Checkout. Off by default."
        checked={d.checkoutDeals}
        disabled={idle(d.enabled, checkoutError)}
        error={checkoutError}
        onChange={(ev) => onChange('deals', { checkoutDeals: ev.target.checked })}
      />
    </Box>
  );
}

function TimelinePart({ crm, errors, onChange, connectionKind }: PartProps & { connectionKind: HubSpotConnection['kind'] | null }) {
  const target = timelineTarget(connectionKind);
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <PartHeading title="Timeline" errors={crmPartErrors(errors, 'timeline')} />
      <Switch
        label="Revenue movements on the contact’s timeline"
        description="New subscription, upgrade, downgrade, churn, reactivation, trial started or converted, payment failed or recovered, refund and dispute, each with its amount and the MRR before and after. HubSpot connections through the marketplace app get timeline events; private app connections get notes on the contact instead. On by default."
        checked={crm.timeline.enabled}
        error={errors[crmPath('timeline', 'enabled')]}
        onChange={(ev) => onChange('timeline', { enabled: ev.target.checked })}
      />
      {target ? <Box css={{ font: 'caption', color: 'secondary' }}>{target}</Box> : null}
    </Box>
  );
}

function TicketsPart({ crm, errors, onChange }: PartProps) {
  const t = crm.tickets;
  const pipelineError = errors[crmPath('tickets', 'pipelineId')];
  const priorityError = errors[crmPath('tickets', 'priority')];
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <PartHeading title="Tickets" errors={crmPartErrors(errors, 'tickets')} />
      <Switch
        label="A ticket for each unpaid invoice"
        description="When an invoice’s payment fails, a ticket is opened, linked to the contact (and its company and deal), and closed when the invoice is paid or voided. Never two tickets for one invoice. Off by default."
        checked={t.enabled}
        error={errors[crmPath('tickets', 'enabled')]}
        onChange={(ev) => onChange('tickets', { enabled: ev.target.checked })}
      />
      <TextField
        label="Ticket pipeline ID"
        description="The ID of one of your ticket pipelines in HubSpot (Settings › Objects › Tickets › Pipelines). Leave it empty for HubSpot’s default support pipeline (the default)."
        placeholder="Default support pipeline"
        value={pipelineIdToInput(t.pipelineId)}
        disabled={idle(t.enabled, pipelineError)}
        invalid={Boolean(pipelineError)}
        error={pipelineError}
        onChange={(ev) => onChange('tickets', { pipelineId: pipelineIdFromInput(ev.target.value) })}
      />
      <Select
        label="Ticket priority"
        description="The priority new tickets get. Default: high."
        value={t.priority}
        disabled={idle(t.enabled, priorityError)}
        invalid={Boolean(priorityError)}
        error={priorityError}
        onChange={(ev) => {
          const priority = TICKET_PRIORITIES.find((p) => p === ev.target.value);
          if (priority) onChange('tickets', { priority });
        }}
      >
        {TICKET_PRIORITIES.map((p) => (
          <option key={p} value={p}>
            {PRIORITY_LABEL[p]}
          </option>
        ))}
      </Select>
    </Box>
  );
}

/** What the sync writes to HubSpot beyond contact properties: companies, deals, timeline, tickets. */
export function CrmSection(props: {
  settings: SyncSettings;
  errors: FieldErrors;
  connectionKind: HubSpotConnection['kind'] | null;
  onChange: ChangeCrm;
}) {
  const part = { crm: props.settings.crm, errors: props.errors, onChange: props.onChange };
  return (
    <Box css={{ stack: 'y', gap: 'large' }}>
      <Box css={{ stack: 'y', gap: 'xxsmall' }}>
        <Box css={{ font: 'heading' }}>Companies, deals, timeline and tickets</Box>
        <Box css={{ font: 'caption', color: 'secondary' }}>
          Besides the contact’s properties, the sync can keep these HubSpot records up to date.
        </Box>
      </Box>
      <CompaniesPart {...part} />
      <DealsPart {...part} />
      <TimelinePart {...part} connectionKind={props.connectionKind} />
      <TicketsPart {...part} />
    </Box>
  );
}
