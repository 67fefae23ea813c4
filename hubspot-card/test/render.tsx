import {
  createRenderer,
  RenderedNodeType,
  type RenderedChildNode,
} from '@hubspot/ui-extensions/testing';
import { StripePaymentCard } from '../src/app/cards/components/StripePaymentCard';

/** All the text under a rendered node (root, fragment or element of any component), in order, space-joined. */
export function allText(node: { childNodes: readonly RenderedChildNode[] }): string {
  return node.childNodes
    .map((child) => (child.nodeType === RenderedNodeType.Text ? child.text : allText(child)))
    .filter((text) => text.length > 0)
    .join(' ');
}

/** Renders the card in the contact sidebar with the testing library's mock context (portal 123, contact 123). */
export function renderCard() {
  const renderer = createRenderer('crm.record.sidebar');
  renderer.render(<StripePaymentCard context={renderer.mocks.context} actions={renderer.mocks.actions} />);
  return renderer;
}

export type CardRenderer = ReturnType<typeof renderCard>;
