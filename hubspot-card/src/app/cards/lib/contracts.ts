/**
 * The one place the card reaches the shared API contract, the workspace package `@stripe-hubspot-sync/contracts`
 * (a declared dependency of the card). Everything the card needs from it is re-exported here, so the rest of the
 * card imports `./contracts`.
 *
 * Only `formatMoney` and `CARD_API_PREFIX` are runtime imports; the rest are types and vanish at build time.
 */
export type {
  ApiError,
  ApiErrorCode,
  CardNotLinkedReason,
  CardRequest,
  CardResponse,
  CustomerStatus,
  PaymentStatusValue,
  PaymentSummary,
  SubscriptionStatusValue,
  SubscriptionSummary,
} from '@stripe-hubspot-sync/contracts';
export { CARD_API_PREFIX, formatMoney } from '@stripe-hubspot-sync/contracts';
