/** What `npm run demo` prints at the end: HubSpot contacts as a table and the events' outcomes. Pure functions. */

/** One HubSpot contact as the demo shows it. */
export interface ContactRow {
  email: string;
  status: string;
  plan: string;
  mrr: string;
  lastPayment: string;
  failed: string;
  ltv: string;
  refunded: string;
  lifecycle: string;
}

const COLUMNS: [keyof ContactRow, string][] = [
  ['email', 'Email'],
  ['status', 'Subscription'],
  ['plan', 'Plan'],
  ['mrr', 'MRR'],
  ['lastPayment', 'Last payment'],
  ['failed', 'Failed'],
  ['ltv', 'LTV'],
  ['refunded', 'Refunded'],
  ['lifecycle', 'Lifecycle'],
];
const NUMERIC = new Set<keyof ContactRow>(['mrr', 'failed', 'ltv', 'refunded']);

/** A contact's properties (as HubSpot holds them) → a row; missing values show as "—". */
export function contactRow(p: Record<string, string | undefined>): ContactRow {
  const v = (name: string) => (p[name] === undefined || p[name] === '' ? '—' : (p[name] as string));
  const currency = p.stripe_currency ? ` ${p.stripe_currency}` : '';
  const money = (name: string) => (p[name] ? `${p[name]}${currency}` : '—');
  const day = (ms: string | undefined) => (ms && /^\d+$/.test(ms) ? new Date(Number(ms)).toISOString().slice(0, 10) : '');
  const last = p.stripe_last_payment_amount
    ? `${p.stripe_last_payment_amount} ${p.stripe_last_payment_status ?? ''} ${day(p.stripe_last_payment_date)}`.replace(/\s+/g, ' ').trim()
    : '—';
  return {
    email: v('email'),
    status: v('stripe_subscription_status'),
    plan: v('stripe_plan'),
    mrr: money('stripe_mrr'),
    lastPayment: last,
    failed: v('stripe_failed_payment_count'),
    ltv: money('stripe_lifetime_value'),
    refunded: money('stripe_total_refunded'),
    lifecycle: v('lifecyclestage'),
  };
}

/** A plain-text table (header, rule, rows), numbers right-aligned. */
export function formatTable(rows: ContactRow[]): string[] {
  const widths = COLUMNS.map(([key, title]) => Math.max(title.length, ...rows.map((r) => r[key].length)));
  const cell = (key: keyof ContactRow, text: string, i: number) => (NUMERIC.has(key) ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells: string[]) => cells.join('  ').trimEnd();
  return [
    line(COLUMNS.map(([key, title], i) => cell(key, title, i))),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.map((r) => line(COLUMNS.map(([key], i) => cell(key, r[key], i)))),
  ];
}

export interface OutcomeCount {
  status: string;
  reason: string | null;
  count: number;
}

/** Event outcome lines: synced first, then skipped and ignored with their reasons, then anything else. */
export function formatOutcomes(counts: OutcomeCount[], duplicates: number): string[] {
  const order = ['synced', 'skipped', 'ignored', 'failed', 'applied', 'received'];
  const total = (s: string) => counts.filter((c) => c.status === s).reduce((n, c) => n + c.count, 0);
  const out: string[] = [];
  for (const status of [...order, ...new Set(counts.map((c) => c.status).filter((s) => !order.includes(s)))]) {
    const n = total(status);
    if (n === 0) continue;
    out.push(`${status.padEnd(8)} ${String(n).padStart(3)}`);
    for (const c of counts.filter((x) => x.status === status && (status !== 'synced' || x.reason)).sort((a, b) => b.count - a.count)) {
      out.push(`         ${String(c.count).padStart(3)}  ${c.reason ?? '(no reason recorded)'}`);
    }
  }
  out.push(`duplicate deliveries acknowledged and not stored again: ${duplicates}`);
  return out;
}
