import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CARD_API_PREFIX } from '@stripe-hubspot-sync/contracts';

/**
 * The project as HubSpot's own parser reads it at `hs project upload --profile <name>`: @hubspot/project-parsing-lib
 * (the CLI's library) run over this folder for each profile (test/hubspot-project/parse-project.mjs; the library is
 * ESM, so it runs in its own node process and prints JSON). It validates the components (directories, uids, the
 * parent app, duplicates, parse errors) — the component schemas themselves are served by HubSpot at upload and are
 * not part of the library — and applies the profile's variables; its workspace helpers say what the upload copies
 * from outside the project.
 */

const PROJECT = resolve(__dirname, '..');
const SCRIPT = join(__dirname, 'hubspot-project', 'parse-project.mjs');
const CONTRACTS_DIR = resolve(PROJECT, '..', 'packages', 'contracts');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parse(projectDir: string, profile?: string): Json {
  const out = execFileSync(process.execPath, [SCRIPT, projectDir, ...(profile ? [profile] : [])], {
    cwd: PROJECT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out) as Json;
}

const profileOf = (name: string) => JSON.parse(readFileSync(join(PROJECT, 'src', `hsprofile.${name}.json`), 'utf8')) as Json;

describe.each(['prod', 'dev', 'selfhosted'])("HubSpot's parser with the %s profile", (profile) => {
  let parsed: Json = {};
  let nodes: Record<string, Json> = {};
  const variables = profileOf(profile).variables as Record<string, string>;
  const ofType = (type: string) => Object.values(nodes).filter((n) => n.componentType === type);
  beforeAll(() => {
    parsed = parse(PROJECT, profile);
    nodes = (parsed.intermediateRepresentation?.intermediateNodesIndexedByUid ?? {}) as Record<string, Json>;
  });

  it('validates the project without errors, after asking HubSpot for the 2025.2 component schemas', () => {
    expect(parsed.error).toBeUndefined();
    expect(parsed.ok).toBe(true);
    expect(parsed.skippedHsMetaFiles).toEqual([]);
    expect(parsed.schemaRequests).toEqual([{ accountId: expect.any(Number), url: 'project-components-external/project-schemas/v3/2025.2' }]);
  });

  it('has the app, the contact sidebar card and the webhooks, the card and webhooks under the app', () => {
    const [app] = ofType('APPLICATION');
    const [card] = ofType('CARD');
    const [webhooks] = ofType('WEBHOOKS');
    expect(Object.keys(nodes)).toHaveLength(3);
    expect(app?.metaFilePath).toBe('app/app-hsmeta.json');
    expect(card).toMatchObject({
      metaFilePath: 'app/cards/StripePaymentCard-hsmeta.json',
      config: { location: 'crm.record.sidebar', objectTypes: ['contacts'], entrypoint: '/app/cards/StripePaymentCard.tsx' },
      componentDeps: { app: app?.uid },
    });
    expect(webhooks?.componentDeps).toMatchObject({ app: app?.uid });
  });

  it("puts the profile's backend into permittedUrls (the card API's path only) and the webhook target", () => {
    const [app] = ofType('APPLICATION');
    const [webhooks] = ofType('WEBHOOKS');
    expect(app?.config.permittedUrls.fetch).toEqual([`${variables.BACKEND_URL}${CARD_API_PREFIX}/`]);
    expect(webhooks?.config.settings.targetUrl).toBe(`${variables.BACKEND_URL}/webhooks/hubspot`);
    expect(JSON.stringify(nodes)).not.toContain('${');
  });

  it("gets the app's distribution and auth from the profile", () => {
    const [app] = ofType('APPLICATION');
    expect([app?.config.distribution, app?.config.auth.type]).toEqual(
      profile === 'selfhosted' ? ['private', 'static'] : ['marketplace', 'oauth'],
    );
    expect(parsed.intermediateRepresentation.profileData.vars.profileVariables).toMatchObject({
      BACKEND_URL: { value: variables.BACKEND_URL },
      DISTRIBUTION: { value: variables.DISTRIBUTION },
    });
  });

  it('finds the shared contracts as a file: dependency of the card, so the upload copies them in', () => {
    expect(parsed.fileDependencies).toEqual([
      {
        packageName: '@stripe-hubspot-sync/contracts',
        localPath: CONTRACTS_DIR,
        kind: 'directory',
        protocol: 'file',
        from: join(PROJECT, 'src', 'app', 'cards', 'package.json'),
      },
    ]);
    expect(parsed.workspaces).toEqual([]);
  });
});

describe("HubSpot's parser on a broken copy of the project", () => {
  let root = '';
  let dir = '';
  beforeEach(() => {
    // <root>/hubspot-card is the copy; <root>/packages points at the real shared packages (the file: dependency).
    root = mkdtempSync(join(tmpdir(), 'hubspot-card-project-'));
    dir = join(root, 'hubspot-card');
    cpSync(join(PROJECT, 'hsproject.json'), join(dir, 'hsproject.json'));
    cpSync(join(PROJECT, 'src'), join(dir, 'src'), { recursive: true, filter: (src) => !src.includes('node_modules') });
    symlinkSync(resolve(PROJECT, '..', 'packages'), join(root, 'packages'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('parses the unchanged copy', () => {
    expect(parse(dir, 'prod')).toMatchObject({ ok: true, fileDependencies: [{ packageName: '@stripe-hubspot-sync/contracts' }] });
  });

  it('refuses a file: dependency that does not resolve (the upload could not copy it)', () => {
    rmSync(join(root, 'packages'));
    const parsed = parse(dir, 'prod');
    expect(parsed.ok).toBe(false);
    expect(parsed.dependencyError).toContain('@stripe-hubspot-sync/contracts');
  });

  it('refuses a profile that lacks a variable the configs use (so a forgotten BACKEND_URL never uploads)', () => {
    const profile = profileOf('prod');
    delete profile.variables.BACKEND_URL;
    writeFileSync(join(dir, 'src', 'hsprofile.prod.json'), JSON.stringify(profile));
    const parsed = parse(dir, 'prod');
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed.error)).toContain('BACKEND_URL');
  });

  it('refuses a component in the wrong folder', () => {
    cpSync(join(dir, 'src', 'app', 'cards', 'StripePaymentCard-hsmeta.json'), join(dir, 'src', 'app', 'webhooks', 'Card-hsmeta.json'));
    rmSync(join(dir, 'src', 'app', 'cards', 'StripePaymentCard-hsmeta.json'));
    const parsed = parse(dir, 'prod');
    expect(parsed.ok).toBe(false);
    expect(parsed.error.files).toEqual([{ file: 'app/webhooks/Card-hsmeta.json', errors: [expect.stringContaining('cards')] }]);
  });
});
