import manifest from '../stripe-app.json';
import { APP_ID } from '../src/links';

/** The manifest's views resolve to real components the Stripe CLI can bundle from src/views/. */
describe('stripe-app.json views', () => {
  it.each(manifest.ui_extension.views.map((v) => [v.viewport, v.component]))(
    '%s → %s is a component exported (named and default) from src/views',
    async (_viewport, component) => {
      const mod = (await import(`../src/views/${component}`)) as Record<string, unknown>;
      expect(typeof mod[component]).toBe('function');
      expect(mod.default).toBe(mod[component]);
    },
  );

  it('gives the views a BACKEND_URL constant', () => {
    expect(manifest.constants.BACKEND_URL).toMatch(/^https:\/\//);
  });

  it('names the app as the views do (links to its settings page)', () => {
    expect(manifest.id).toBe(APP_ID);
  });
});
