/** Fake Stripe API for tests: start it, fill accounts, point the real `stripe` SDK at it. */
export { startFakeStripe } from './server';
export { seedAccount, SEED_NOW, type SeedOptions } from './seed';
export { FakeAccount, PLATFORM_ACCOUNT } from './account';
export { buildSubscriptionItem, addInterval, type Interval, type ItemSpec } from './builders';
export type { FakeStripe, FakeStripeAccount, FakeStripeOptions, FakeStripeRequest, StripeJson } from './types';
