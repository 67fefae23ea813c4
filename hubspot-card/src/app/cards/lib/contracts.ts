/**
 * The one place the card reaches the shared API contract, the workspace package `@stripe-hubspot-sync/contracts`
 * (a declared dependency of the card). Everything the card needs from it is re-exported here, so the rest of the
 * card imports `./contracts`.
 *
 * Only `formatMoney`, `CARD_API_PREFIX` and `REVENUE_MOVEMENT_LABELS` are runtime imports; the rest are types and
 * vanish at build time.
 */
export type {
  ApiError,
  ApiErrorCode,
  CardCustomer,
  CardNotLinkedReason,
  CardRequest,
  CardResponse,
  CustomerCompany,
  CustomerStatus,
  CustomerSubscription,
  RevenueMovementKind,
  RevenueMovementSummary,
  PaymentStatusValue,
  PaymentSummary,
  SubscriptionStatusValue,
  SubscriptionSummary,
} from '@stripe-hubspot-sync/contracts';
export { CARD_API_PREFIX, formatMoney, REVENUE_MOVEMENT_LABELS } from '@stripe-hubspot-sync/contracts';
