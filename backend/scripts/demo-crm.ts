/**
 * What `npm run demo` shows beyond contact properties, read from the fake HubSpot portal: companies, deals (a
 * deal per subscription in the "Stripe subscriptions" pipeline), revenue movements (notes on the contact: the demo
 * connects with a private-app token, which cannot write timeline events) and tickets on failed payments.
 */
import type { FakeHubSpot } from '../test/fakes/hubspot/server';
import type { AssociableType, FakeObject } from '../test/fakes/hubspot/types';

type Portal = ReturnType<FakeHubSpot['portal']>;

export interface CompanyRow {
  id: string;
  name: string;
  domain: string;
  mrr: string;
  status: string;
  /** Emails of the associated contacts. */
  contacts: string[];
}

export interface DealRow {
  id: string;
  name: string;
  stage: string;
  amount: string;
  closeDate: string;
  subscriptionId: string;
  contact: string;
  company: string;
}

export interface MovementRow {
  contact: string;
  date: string;
  title: string;
  summary: string;
}

export interface TicketRow {
  subject: string;
  stage: string;
  priority: string;
  invoiceId: string;
  contact: string;
}

export interface CrmView {
  companies: CompanyRow[];
  deals: DealRow[];
  movements: MovementRow[];
  tickets: TicketRow[];
}

const dash = (v: string | undefined) => (v === undefined || v === '' ? '—' : v);
const day = (iso: string | undefined) => (iso && !Number.isNaN(Date.parse(iso)) ? new Date(iso).toISOString().slice(0, 10) : /^\d+$/.test(iso ?? '') ? new Date(Number(iso)).toISOString().slice(0, 10) : '—');

/** The records of `to` associated with a record of `from`. */
function linked(portal: Portal, from: AssociableType, id: string, to: AssociableType): string[] {
  return portal
    .associations(from, to)
    .filter((a) => a.fromId === id)
    .map((a) => a.toId);
}

function stageLabels(portal: Portal, type: 'deals' | 'tickets'): Map<string, string> {
  return new Map(portal.pipelines(type).flatMap((p) => p.stages.map((s) => [s.id, `${s.label}${type === 'deals' && p.label !== 'Stripe subscriptions' ? ` (${p.label})` : ''}`] as const)));
}

/** A note's body (HTML paragraphs) → its title and first sentence. */
export function noteText(body: string | undefined): { title: string; summary: string } {
  const paragraphs = [...(body ?? '').matchAll(/<p>(.*?)<\/p>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'"));
  return { title: (paragraphs[0] ?? '').replace(/^Stripe: /, ''), summary: paragraphs[1] ?? '' };
}

export function crmView(portal: Portal): CrmView {
  const emailOf = (contactId: string | undefined) => (contactId ? dash(portal.object('contacts', contactId)?.properties.email) : '—');
  const nameOf = (companyId: string | undefined) => (companyId ? dash(portal.object('companies', companyId)?.properties.name) : '—');
  const byId = (a: FakeObject, b: FakeObject) => Number(a.id) - Number(b.id);
  const dealStages = stageLabels(portal, 'deals');
  const ticketStages = stageLabels(portal, 'tickets');
  const companies = portal
    .companies()
    .sort(byId)
    .map((c) => ({
      id: c.id,
      name: dash(c.properties.name),
      domain: dash(c.properties.domain),
      mrr: c.properties.stripe_mrr ? `${c.properties.stripe_mrr} ${c.properties.stripe_currency ?? ''}`.trim() : '—',
      status: dash(c.properties.stripe_subscription_status),
      contacts: linked(portal, 'companies', c.id, 'contacts').map(emailOf).sort(),
    }));
  const deals = portal
    .deals()
    .sort(byId)
    .map((d) => ({
      id: d.id,
      name: dash(d.properties.dealname),
      stage: dealStages.get(d.properties.dealstage ?? '') ?? dash(d.properties.dealstage),
      amount: d.properties.amount ? `${d.properties.amount} ${d.properties.deal_currency_code ?? d.properties.stripe_currency ?? ''}`.trim() : '—',
      closeDate: day(d.properties.closedate),
      subscriptionId: dash(d.properties.stripe_subscription_id),
      contact: linked(portal, 'deals', d.id, 'contacts').map(emailOf).join(', ') || '—',
      company: linked(portal, 'deals', d.id, 'companies').map(nameOf).join(', ') || '—',
    }));
  const movements = portal
    .notes()
    .map((n) => ({ n, contact: linked(portal, 'notes', n.id, 'contacts')[0] }))
    .sort((a, b) => (a.n.properties.hs_timestamp ?? '').localeCompare(b.n.properties.hs_timestamp ?? '') || Number(a.n.id) - Number(b.n.id))
    .map(({ n, contact }) => ({ contact: emailOf(contact), date: day(n.properties.hs_timestamp), ...noteText(n.properties.hs_note_body) }));
  const tickets = portal
    .tickets()
    .sort(byId)
    .map((t) => ({
      subject: dash(t.properties.subject),
      stage: ticketStages.get(t.properties.hs_pipeline_stage ?? '') ?? dash(t.properties.hs_pipeline_stage),
      priority: dash(t.properties.hs_ticket_priority),
      invoiceId: dash(t.properties.stripe_invoice_id),
      contact: linked(portal, 'tickets', t.id, 'contacts').map(emailOf).join(', ') || '—',
    }));
  return { companies, deals, movements, tickets };
}

/** One line per record of a contact, for the chapter's "HubSpot now" (company, deals with their stage, open tickets). */
export function contactRecordsLine(portal: Portal, contactId: string, view: CrmView): string | null {
  const parts: string[] = [];
  const company = linked(portal, 'contacts', contactId, 'companies')
    .map((id) => view.companies.find((c) => c.id === id)?.name)
    .filter(Boolean);
  if (company.length > 0) parts.push(`company ${company.join(', ')}`);
  const email = portal.object('contacts', contactId)?.properties.email;
  for (const d of view.deals.filter((x) => x.contact.split(', ').includes(email ?? ''))) parts.push(`deal "${d.name}" ${d.stage} ${d.amount}`);
  for (const t of view.tickets.filter((x) => x.contact === email)) parts.push(`ticket "${t.subject}" ${t.stage}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** A plain-text table of string rows. */
export function table(columns: [string, string][], rows: Record<string, string>[]): string[] {
  const widths = columns.map(([k, title]) => Math.max(title.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map(([, t]) => t)), line(widths.map((w) => '─'.repeat(w))), ...rows.map((r) => line(columns.map(([k]) => r[k] ?? '')))];
}

/** The four sections the demo prints after the contacts. */
export function crmLines(view: CrmView, portalId: number): string[] {
  const out: string[] = [];
  const section = (title: string, lines: string[], empty: string) => {
    out.push('', title);
    for (const l of lines.length > 0 ? lines : [empty]) out.push(`  ${l}`);
  };
  section(
    `HubSpot companies in portal ${portalId}:`,
    view.companies.length > 0
      ? table(
          [['name', 'Company'], ['domain', 'Domain'], ['mrr', 'MRR'], ['status', 'Subscription'], ['contacts', 'Contacts']],
          view.companies.map((c) => ({ ...c, contacts: c.contacts.join(', ') })),
        )
      : [],
    '(none)',
  );
  section(
    'HubSpot deals (pipeline "Stripe subscriptions", one per subscription):',
    view.deals.length > 0
      ? table(
          [['name', 'Deal'], ['stage', 'Stage'], ['amount', 'Amount (MRR)'], ['closeDate', 'Close date'], ['contact', 'Contact'], ['company', 'Company']],
          view.deals as unknown as Record<string, string>[],
        )
      : [],
    '(none)',
  );
  section(
    'Revenue movements (notes on the contact: a private app cannot write timeline events):',
    view.movements.length > 0
      ? table(
          [['date', 'Date'], ['contact', 'Contact'], ['title', 'Movement'], ['summary', 'What moved']],
          view.movements as unknown as Record<string, string>[],
        )
      : [],
    '(none)',
  );
  section(
    'HubSpot tickets on failed payments:',
    view.tickets.length > 0
      ? table(
          [['subject', 'Ticket'], ['stage', 'Stage'], ['priority', 'Priority'], ['contact', 'Contact']],
          view.tickets as unknown as Record<string, string>[],
        )
      : [],
    '(none)',
  );
  return out;
}
