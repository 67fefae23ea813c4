/**
 * Fake Stripe API for tests: start it, fill accounts, point the real `stripe` SDK at it.
 *
 *   const fake = await startFakeStripe();
 *   const acc = fake.account('acct_1', false);              // test-mode data of connected account acct_1
 *   const cus = acc.addCustomer({ email: 'a@example.com' });
 *   const stripe = new Stripe('sk_test_fake', { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
 *   await stripe.customers.retrieve(cus.id as string, {}, { stripeAccount: 'acct_1' });
 *   await fake.close();
 *
 * stripe 23 takes request options (stripeAccount, …) only as the LAST argument after the params:
 * `retrieve(id, {}, {stripeAccount})`, `list({limit: 100}, {stripeAccount})`. Passed in the params'
 * place they are sent as parameters, and the fake, like Stripe, answers 400 parameter_unknown.
 */
export { startFakeStripe } from './server';
export { seedAccount, SEED_NOW, type SeedOptions } from './seed';
export { FakeAccount, PLATFORM_ACCOUNT } from './account';
export { buildSubscriptionItem, addInterval, type Interval, type ItemSpec } from './builders';
export type { FakeStripe, FakeStripeAccount, FakeStripeOptions, FakeStripeRequest, StripeJson } from './types';
