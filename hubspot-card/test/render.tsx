import {
  createRenderer,
  RenderedNodeType,
  type RenderedChildNode,
} from '@hubspot/ui-extensions/testing';
import { StripePaymentCard } from '../src/app/cards/components/StripePaymentCard';

/** The backend the tests' profile names (any https URL: the card takes it from the profile, not from its code). */
export const TEST_BACKEND_URL = 'https://card-backend.test.example/sync';

/** A marketplace profile's variables, as HubSpot hands them to the card (`context.variables`). */
export const MARKETPLACE_VARIABLES = { BACKEND_URL: TEST_BACKEND_URL, DISTRIBUTION: 'marketplace' };

/** All the text under a rendered node (root, fragment or element of any component), in order, space-joined. */
export function allText(node: { childNodes: readonly RenderedChildNode[] }): string {
  return node.childNodes
    .map((child) => (child.nodeType === RenderedNodeType.Text ? child.text : allText(child)))
    .filter((text) => text.length > 0)
    .join(' ');
}

/**
 * Renders the card in the contact sidebar with the testing library's mock context (portal 123, contact 123), the
 * profile `variables` (a marketplace profile by default; null: none) and mock actions; the card reads them through the hooks.
 */
export function renderCard(variables: Record<string, string> | null = MARKETPLACE_VARIABLES) {
  const renderer = createRenderer('crm.record.sidebar');
  renderer.mocks.context.variables = variables ?? undefined;
  renderer.render(<StripePaymentCard />);
  return renderer;
}

export type CardRenderer = ReturnType<typeof renderCard>;
