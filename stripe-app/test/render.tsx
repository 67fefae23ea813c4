import { useState, type ReactElement } from 'react';
import { render } from '@stripe/ui-extension-sdk/testing';

const mounted: (() => void)[] = [];

/**
 * render() from the SDK, inside a harness that can really unmount the view (the SDK's own
 * unmount only marks the root), so effects clean up: polling timers stop, late answers are dropped.
 */
export function renderView(element: ReactElement) {
  let setShown: (v: boolean) => void = () => undefined;
  function Harness() {
    const [shown, set] = useState(true);
    setShown = set;
    return shown ? element : null;
  }
  const { wrapper, update } = render(<Harness />);
  const unmount = () => wrapper.act(() => setShown(false));
  mounted.push(unmount);
  /** Lets pending promises (signature, fetch, body) settle and re-renders. */
  const settle = async (rounds = 2) => {
    for (let i = 0; i < rounds; i++) await update();
  };
  return { wrapper, update, settle, unmount };
}

/** Unmounts every view rendered by the test; call from afterEach. */
export function unmountAll() {
  while (mounted.length) mounted.pop()?.();
}

type Root = ReturnType<typeof render>['wrapper'];
type Component = Parameters<Root['findAll']>[0];

/** The first component of this type whose text is exactly `text` (children are not props in remote-ui). */
export function byText<T extends Component>(root: Root, type: T, text: string) {
  const found = root.findAll(type).find((n) => n.text === text);
  if (!found) {
    const seen = root.findAll(type).map((n) => JSON.stringify(n.text));
    throw new Error(`No component with text ${JSON.stringify(text)}; found: ${seen.join(', ') || 'none'}`);
  }
  return found;
}

/** True when some component of this type has exactly this text. */
export function hasText<T extends Component>(root: Root, type: T, text: string): boolean {
  return root.findAll(type).some((n) => n.text === text);
}
