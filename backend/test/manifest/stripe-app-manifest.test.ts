import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { APP_API_PREFIX } from '@stripe-hubspot-sync/contracts';

/**
 * The Stripe App manifest (repo root) against Stripe's published schema, plus the rules the schema
 * cannot say: purposes, our three views, and a connect-src that covers the API the views call.
 */

const ROOT = join(__dirname, '..', '..', '..');
// Stripe's published schema, kept with the other API contracts in the repository (specs/).
const SCHEMA_PATH = join(ROOT, 'specs', 'stripe', 'stripe-app.schema.json');

interface Manifest {
  id: string;
  permissions: { permission: string; purpose: string }[];
  post_install_action?: { type: string } | null;
  ui_extension: {
    views: { viewport: string; component: string }[];
    content_security_policy?: { 'connect-src'?: string[] | null; purpose: string };
  };
  constants?: Record<string, unknown> | null;
  allowed_redirect_uris?: string[] | null;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'stripe-app.json'), 'utf8')) as Manifest;

function validator() {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  // Stripe's schema names draft-07 by URL; ajv 8 speaks it natively once the $schema key is dropped.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('stripe-app.json', () => {
  const validate = validator();

  it('is valid against Stripe’s manifest schema', () => {
    const ok = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check is not vacuous: unknown keys, bare-host connect-src and bad ids fail', () => {
    expect(validate({ ...manifest, unknown_key: true })).toBe(false);
    const bareHost = structuredClone(manifest);
    bareHost.ui_extension.content_security_policy!['connect-src'] = ['https://api.stripe-hubspot-sync.dev'];
    expect(validate(bareHost)).toBe(false);
    expect(validate({ ...manifest, id: 'has spaces' })).toBe(false);
  });

  it('asks for least privilege: read-only permissions, each with a purpose', () => {
    const names = manifest.permissions.map((p) => p.permission);
    expect(names).toContain('event_read');
    expect(new Set(names).size).toBe(names.length);
    for (const p of manifest.permissions) {
      expect(p.permission).toMatch(/_read$/);
      expect(p.purpose.trim().length).toBeGreaterThan(20);
    }
    expect(names).not.toContain('user_email_read');
    expect(names).not.toContain('secret_write');
  });

  it('opens the settings after install and maps our three viewports', () => {
    expect(manifest.post_install_action).toEqual({ type: 'settings' });
    expect(manifest.ui_extension.views).toEqual([
      { viewport: 'settings', component: 'AppSettings' },
      { viewport: 'stripe.dashboard.customer.detail', component: 'CustomerDetailView' },
      { viewport: 'stripe.dashboard.drawer.default', component: 'ActivityView' },
    ]);
  });

  it('every view names a component exported from stripe-app/src/views/<Component>.tsx', () => {
    for (const { component } of manifest.ui_extension.views) {
      const file = join(ROOT, 'stripe-app', 'src', 'views', `${component}.tsx`);
      expect(existsSync(file)).toBe(true);
      const source = readFileSync(file, 'utf8');
      expect(source).toMatch(new RegExp(`export function ${component}\\(`));
      expect(source).toMatch(new RegExp(`export default ${component};`));
    }
  });

  it('every connect-src has a path, and one covers BACKEND_URL + the app API prefix', () => {
    const csp = manifest.ui_extension.content_security_policy!;
    const sources = csp['connect-src'] ?? [];
    expect(sources.length).toBeGreaterThan(0);
    expect(csp.purpose.trim().length).toBeGreaterThan(20);
    for (const src of sources) {
      const url = new URL(src);
      expect(url.protocol).toBe('https:');
      expect(url.pathname.length).toBeGreaterThan(1);
    }
    const backend = manifest.constants?.BACKEND_URL;
    expect(typeof backend).toBe('string');
    const api = `${String(backend).replace(/\/+$/, '')}${APP_API_PREFIX}/`;
    const covered = sources.some((src) => (src.endsWith('/') ? api.startsWith(src) : api === src));
    expect(covered).toBe(true);
  });
});
