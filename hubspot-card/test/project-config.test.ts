import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CARD_API_PREFIX } from '@stripe-hubspot-sync/contracts';

/**
 * The HubSpot developer project (platform 2025.2) in the shape `hs project upload` takes: hsproject.json, then one
 * *-hsmeta.json per component under src/app/<feature>/, following HubSpot's published examples
 * (specs/hubspot-project-2025.2 at the repository root), and one hsprofile.<name>.json per environment in src/
 * whose variables fill the `${NAME}` placeholders at upload. (hubspot-project.test.ts runs HubSpot's own parser.)
 */

const PROJECT = join(__dirname, '..');
const SPECS = join(PROJECT, '..', 'specs', 'hubspot-project-2025.2');
const CONTRACTS = '@stripe-hubspot-sync/contracts';
const STRIPE_APP_ID = 'com.stripe-hubspot-sync.app';
const LEAST_PRIVILEGE_SCOPES = ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.write', 'oauth'];
/** Companies, deals, tickets and timeline: optional, each writer steps aside without its scopes. */
const OPTIONAL_SCOPES = [
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.schemas.companies.read',
  'crm.schemas.companies.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'crm.schemas.tickets.write',
  'tickets',
  'timeline',
];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? (name === 'node_modules' ? [] : walk(path)) : [path];
  });
}

const project = readJson(join(PROJECT, 'hsproject.json'));
const srcDir = join(PROJECT, project.srcDir as string);
const components = walk(join(srcDir, 'app'))
  .filter((path) => path.endsWith('-hsmeta.json'))
  .map((path) => ({ path: relative(join(srcDir, 'app'), path).split(sep), json: readJson(path) }));
const byType = (type: string) => components.filter((c) => c.json.type === type).map((c) => c.json);
const [app] = byType('app');
const [card] = byType('card');
const [webhooks] = byType('webhooks');

const example = (name: string) => readJson(join(SPECS, name));
const keys = (o: Json) => Object.keys(o).sort();
const isHttpsUrl = (url: unknown) => typeof url === 'string' && /^https:\/\/[^/\s]+/.test(url) && !/localhost|127\.0\.0\.1/.test(url);
const isPinned = (version: unknown) => typeof version === 'string' && /^\d+\.\d+\.\d+$/.test(version);

describe('hsproject.json', () => {
  it("names the project, its src dir and platform 2025.2, as HubSpot's example does", () => {
    expect(project).toEqual({ name: expect.any(String), srcDir: 'src', platformVersion: '2025.2' });
    expect(keys(project)).toEqual(keys(example('hsproject.json')));
    expect(project.name.trim()).not.toBe('');
    expect(existsSync(srcDir)).toBe(true);
  });
});

describe('components', () => {
  it('are one app, one card and one webhooks component, each at the root of its folder', () => {
    expect(components.map((c) => [c.path.join('/'), c.json.type]).sort()).toEqual([
      ['app-hsmeta.json', 'app'],
      ['cards/StripePaymentCard-hsmeta.json', 'card'],
      ['webhooks/webhooks-hsmeta.json', 'webhooks'],
    ]);
  });

  it('have distinct uids HubSpot accepts', () => {
    const uids = components.map((c) => c.json.uid as string);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    for (const c of components) expect(Object.keys(c.json).sort()).toEqual(['config', 'type', 'uid']);
  });
});

describe('app-hsmeta.json', () => {
  const config = app?.config as Json;

  it("has the fields of HubSpot's marketplace app example, with a name and description", () => {
    const spec = example('app-hsmeta.oauth-marketplace.json').config as Json;
    expect(keys(config)).toEqual(keys(spec));
    expect(keys(config.auth)).toEqual(keys(spec.auth));
    expect(keys(config.permittedUrls)).toEqual(keys(spec.permittedUrls));
    expect(config.name).toMatch(/^\S(.{0,198}\S)?$/);
    expect(config.description.length).toBeGreaterThan(0);
    expect(config.description.length).toBeLessThanOrEqual(8192);
  });

  it('takes its distribution and auth type from the profile (marketplace OAuth, or a private static-auth copy)', () => {
    expect(config.distribution).toBe('${DISTRIBUTION}');
    expect(config.auth.type).toBe('${AUTH_TYPE}');
  });

  it('requires exactly the least-privilege contact scopes; the records beyond contacts are optional', () => {
    expect([...config.auth.requiredScopes].sort()).toEqual(LEAST_PRIVILEGE_SCOPES);
    expect([...config.auth.optionalScopes].sort()).toEqual(OPTIONAL_SCOPES);
    expect(config.auth.conditionallyRequiredScopes).toEqual([]);
  });

  it("redirects OAuth to the Stripe App's live and test Dashboard pages over HTTPS", () => {
    const urls = config.auth.redirectUrls as string[];
    expect([...urls].sort()).toEqual([
      `https://dashboard.stripe.com/apps-oauth/${STRIPE_APP_ID}`,
      `https://dashboard.stripe.com/test/apps-oauth/${STRIPE_APP_ID}`,
    ]);
    const stripeAppManifest = join(PROJECT, '..', 'stripe-app.json');
    if (existsSync(stripeAppManifest)) expect(readJson(stripeAppManifest).id).toBe(STRIPE_APP_ID);
  });

  it("permits fetch to the card API's path of the profile's backend only, and nothing else", () => {
    expect(config.permittedUrls.fetch).toEqual([`\${BACKEND_URL}${CARD_API_PREFIX}/`]);
    expect(config.permittedUrls.iframe).toEqual([]);
    expect(config.permittedUrls.img).toEqual([]);
  });

  it('gives support contacts', () => {
    expect(config.support.supportEmail).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(isHttpsUrl(config.support.documentationUrl)).toBe(true);
  });
});

describe('profiles (src/hsprofile.<name>.json)', () => {
  const profiles = Object.fromEntries(
    readdirSync(srcDir)
      .filter((name) => /^hsprofile\.[^.]+\.json$/.test(name))
      .map((name) => [name.split('.')[1]!, readJson(join(srcDir, name))]),
  );

  it('are prod and dev (the marketplace app) and selfhosted (the private copy)', () => {
    expect(Object.keys(profiles).sort()).toEqual(['dev', 'prod', 'selfhosted']);
  });

  it.each(['dev', 'prod', 'selfhosted'])('%s sets every variable the configs use, and a placeholder account id', (name) => {
    const profile = profiles[name] as Json;
    expect(keys(profile)).toEqual(['accountId', 'variables']);
    // A placeholder: each developer sets their own account (README), `hs project upload` refuses 0 plainly.
    expect(profile.accountId).toBe(0);
    const used = new Set(
      components.flatMap((c) => [...JSON.stringify(c.json).matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]!)),
    );
    expect(keys(profile.variables)).toEqual([...used].sort());
    const { BACKEND_URL, DISTRIBUTION, AUTH_TYPE } = profile.variables as Record<string, string>;
    expect(isHttpsUrl(BACKEND_URL)).toBe(true);
    expect(BACKEND_URL).not.toMatch(/\/$/);
    // HubSpot's examples: a marketplace app authenticates with OAuth, a private one with a static token.
    expect([DISTRIBUTION, AUTH_TYPE]).toEqual(name === 'selfhosted' ? ['private', 'static'] : ['marketplace', 'oauth']);
  });

  it('give each environment its own backend', () => {
    const urls = Object.values(profiles).map((p) => (p as Json).variables.BACKEND_URL as string);
    expect(new Set(urls).size).toBe(urls.length);
  });
});

describe('StripePaymentCard-hsmeta.json', () => {
  const config = card?.config as Json;

  it("is a contact sidebar card with the fields of HubSpot's card example", () => {
    expect(keys(config)).toEqual(keys(example('card-hsmeta.json').config as Json));
    expect(config.name.trim()).not.toBe('');
    expect(config.location).toBe('crm.record.sidebar');
    expect(config.objectTypes).toEqual(['contacts']);
  });

  it('points at an entry file that exists under src/app/cards', () => {
    expect(config.entrypoint).toMatch(/^\/app\/cards\/[^/]+\.tsx$/);
    expect(existsSync(join(srcDir, config.entrypoint))).toBe(true);
  });

  it("has its own package.json with the workspace's dependencies, pinned to the installed versions", () => {
    const cardPackage = readJson(join(srcDir, 'app', 'cards', 'package.json'));
    const cardExample = example('card-package.json');
    expect(cardPackage.type).toBe(cardExample.type);
    expect(Object.keys(cardPackage.dependencies)).toEqual(expect.arrayContaining(Object.keys(cardExample.dependencies)));
    const workspacePackage = readJson(join(PROJECT, 'package.json'));
    const { [CONTRACTS]: cardContracts, ...cardDeps } = cardPackage.dependencies as Record<string, string>;
    const { [CONTRACTS]: workspaceContracts, ...workspaceDeps } = workspacePackage.dependencies as Record<string, string>;
    expect(cardDeps).toEqual(workspaceDeps);
    for (const [name, version] of Object.entries({ ...cardDeps, ...cardPackage.devDependencies })) {
      expect([name, isPinned(version)]).toEqual([name, true]);
    }
    for (const name of Object.keys(cardDeps)) {
      const installed = readJson(join(PROJECT, '..', 'node_modules', name, 'package.json')).version;
      expect([name, cardDeps[name]]).toEqual([name, installed]);
    }
    // The shared contracts: a workspace package here, a `file:` dependency in the card (HubSpot's upload copies it).
    expect(workspaceContracts).toBe(readJson(join(PROJECT, '..', 'packages', 'contracts', 'package.json')).version);
    expect(cardContracts).toMatch(/^file:/);
    const target = join(srcDir, 'app', 'cards', cardContracts.slice('file:'.length));
    expect(readJson(join(target, 'package.json')).name).toBe(CONTRACTS);
  });
});

describe('webhooks-hsmeta.json', () => {
  const config = webhooks?.config as Json;

  it("delivers to the profile's backend's HubSpot webhook route", () => {
    expect(keys(config.settings)).toEqual(keys((example('webhooks-hsmeta.json').config as Json).settings));
    expect(config.settings.targetUrl).toBe('${BACKEND_URL}/webhooks/hubspot');
    expect(Number.isInteger(config.settings.maxConcurrentRequests) && config.settings.maxConcurrentRequests > 0).toBe(true);
  });

  it('subscribes to contact deletion and privacy deletion only, both active', () => {
    expect(config.subscriptions).toEqual({
      legacyCrmObjects: [{ subscriptionType: 'contact.deletion', active: true }],
      hubEvents: [{ subscriptionType: 'contact.privacyDeletion', active: true }],
    });
  });
});
