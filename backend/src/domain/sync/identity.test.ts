import { defaultSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { membership, type LinkedCustomer } from './identity';
import { contactProperties } from './contact-write';

const T0 = 1_700_000_000;

function linked(id: string, email: string | null, matchedBy: LinkedCustomer['matchedBy'], matchedEmail: string | null = null, since = T0): LinkedCustomer {
  const status = {
    customerId: id,
    email,
    customerSince: since,
    currency: 'usd',
    subscription: null,
    lastPayment: null,
    lastFailureReason: null,
    failedPaymentCount: 0,
    openInvoiceCount: 0,
    openAmountDue: 0,
    lifetimeValue: 0,
    totalRefunded: 0,
    disputedAmount: 0,
    nextInvoiceAmount: null,
    delinquent: false,
    deleted: false,
    dashboardUrl: `https://dashboard.stripe.com/test/customers/${id}`,
  } as unknown as CustomerStatus;
  return { status, matchedBy, matchedEmail };
}

const ids = (ms: LinkedCustomer[]) => ms.map((m) => m.status.customerId);

describe('who is who on a contact', () => {
  it('a contact we created (or found by customer id) takes its customer’s new email', () => {
    for (const how of ['created', 'customer_id'] as const) {
      const m = membership([linked('cus_own', 'New@Example.com', how)]);
      expect(m).toMatchObject({ email: 'new@example.com', leave: [] });
      expect(ids(m.stay)).toEqual(['cus_own']);
    }
  });

  it('a contact matched only by email never gets an email from us, and keeps the customer while its email is unchanged', () => {
    const m = membership([linked('cus_m', 'Victim@Example.com', 'email', 'victim@example.com')]);
    expect(m.email).toBeNull();
    expect(ids(m.stay)).toEqual(['cus_m']);
    expect(contactProperties(m.stay.map((x) => x.status), m.email, defaultSettings())).not.toHaveProperty('email');
  });

  it('an email-matched customer whose email changed leaves the contact', () => {
    const m = membership([linked('cus_m', 'attacker@example.com', 'email', 'victim@example.com')]);
    expect(m.email).toBeNull();
    expect(m.stay).toEqual([]);
    expect(ids(m.leave)).toEqual(['cus_m']);
    // An email removed in Stripe is a change too.
    expect(ids(membership([linked('cus_n', null, 'email', 'victim@example.com')]).leave)).toEqual(['cus_n']);
  });

  it('customers sharing the email stay together; when the owner’s email changes, the email-matched ones leave', () => {
    const owner = linked('cus_owner', 'shared@example.com', 'created', null, T0 + 10);
    const other = linked('cus_other', 'shared@example.com', 'email', 'shared@example.com', T0);
    const same = membership([owner, other]);
    expect(ids(same.stay)).toEqual(['cus_other', 'cus_owner']);
    expect(same.email).toBe('shared@example.com');

    const moved = membership([linked('cus_owner', 'moved@example.com', 'created', null, T0 + 10), other]);
    expect(moved.email).toBe('moved@example.com');
    expect(ids(moved.stay)).toEqual(['cus_owner']);
    expect(ids(moved.leave)).toEqual(['cus_other']);
  });

  it('an owner without an email leaves the contact’s email alone and keeps its email-matched customers', () => {
    const m = membership([linked('cus_owner', null, 'customer_id'), linked('cus_m', 'x@example.com', 'email', 'x@example.com')]);
    expect(m.email).toBeNull();
    expect(ids(m.stay).sort()).toEqual(['cus_m', 'cus_owner']);
  });
});
