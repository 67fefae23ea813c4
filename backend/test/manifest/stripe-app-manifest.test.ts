import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { APP_API_PREFIX } from '@stripe-hubspot-sync/contracts';

/**
 * The Stripe App manifest (`stripe-app/stripe-app.json`, where the Stripe CLI reads it; the top-level
 * `stripe-app.json` is a link to it) and the local-development manifest that extends it, against Stripe's published
 * schema, plus the rules the schema cannot say: purposes, our three views, and a connect-src that covers the API
 * the views call.
 */

const ROOT = join(__dirname, '..', '..', '..');
// Stripe's published schema, kept with the other API contracts in the repository (specs/).
const SCHEMA_PATH = join(ROOT, 'specs', 'stripe', 'stripe-app.schema.json');

interface Manifest {
  id: string;
  icon: string;
  permissions: { permission: string; purpose: string }[];
  post_install_action?: { type: string } | null;
  ui_extension: {
    views: { viewport: string; component: string }[];
    content_security_policy?: { 'connect-src'?: string[] | null; purpose: string };
  };
  constants?: Record<string, unknown> | null;
  allowed_redirect_uris?: string[] | null;
}

const APP = join(ROOT, 'stripe-app');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const manifest = readJson(join(APP, 'stripe-app.json')) as unknown as Manifest;
const devManifest = readJson(join(APP, 'stripe-app.dev.json'));

/**
 * A local manifest over its base, as `stripe apps start --manifest` applies it: objects merge key by key, anything
 * else (arrays, strings) replaces the base's value; `extends` itself is not part of the result.
 */
function extendManifest(base: Record<string, unknown>, local: Record<string, unknown>): Record<string, unknown> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = isObject(v) && isObject(a[k]) ? merge(a[k], v) : v;
    return out;
  };
  const { extends: _base, ...rest } = local;
  void _base;
  return merge(base, rest);
}

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
      const file = join(APP, 'src', 'views', `${component}.tsx`);
      expect(existsSync(file)).toBe(true);
      const source = readFileSync(file, 'utf8');
      expect(source).toMatch(new RegExp(`export function ${component}\\(`));
      expect(source).toMatch(new RegExp(`export default ${component};`));
    }
  });

  it('every connect-src has a path, and one covers BACKEND_URL + the app API prefix', () => {
    expectBackendCovered(manifest, 'https:');
  });

  it('names a 300×300 PNG icon in the app folder', () => {
    expect(manifest.icon).toBe('./icon.png');
    const png = readFileSync(join(APP, manifest.icon));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([300, 300]);
  });

  it('is the one manifest: the top-level stripe-app.json is a relative link to it', () => {
    const top = join(ROOT, 'stripe-app.json');
    expect(lstatSync(top).isSymbolicLink()).toBe(true);
    expect(readlinkSync(top)).toBe(join('stripe-app', 'stripe-app.json'));
    expect(readFileSync(top, 'utf8')).toBe(readFileSync(join(APP, 'stripe-app.json'), 'utf8'));
  });
});

describe('stripe-app.dev.json (local development: `npm run start:dev -w stripe-app`)', () => {
  const validate = validator();
  const merged = extendManifest(manifest as unknown as Record<string, unknown>, devManifest) as unknown as Manifest;

  it('extends stripe-app.json and overrides only where the views find the backend', () => {
    expect(devManifest.extends).toBe('stripe-app.json');
    expect(Object.keys(devManifest).sort()).toEqual(['constants', 'extends', 'ui_extension']);
    expect(Object.keys(devManifest.ui_extension as object)).toEqual(['content_security_policy']);
  });

  it('merged with its base, is valid against Stripe’s manifest schema', () => {
    const ok = validate(merged);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(merged.ui_extension.views).toEqual(manifest.ui_extension.views);
    expect(merged.permissions).toEqual(manifest.permissions);
  });

  it('points the views at a backend on this computer, and allows exactly that in connect-src', () => {
    expect(merged.constants?.BACKEND_URL).toBe('http://localhost:3000');
    expectBackendCovered(merged, 'http:');
  });
});

function expectBackendCovered(m: Manifest, protocol: 'https:' | 'http:') {
  const csp = m.ui_extension.content_security_policy!;
  const sources = csp['connect-src'] ?? [];
  expect(sources.length).toBeGreaterThan(0);
  expect(csp.purpose.trim().length).toBeGreaterThan(20);
  for (const src of sources) {
    const url = new URL(src);
    expect(url.protocol).toBe(protocol);
    expect(url.pathname.length).toBeGreaterThan(1);
  }
  const backend = m.constants?.BACKEND_URL;
  expect(typeof backend).toBe('string');
  const api = `${String(backend).replace(/\/+$/, '')}${APP_API_PREFIX}/`;
  const covered = sources.some((src) => (src.endsWith('/') ? api.startsWith(src) : api === src));
  expect(covered).toBe(true);
}
