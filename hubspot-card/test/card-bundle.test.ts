import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/**
 * The card bundled the way HubSpot's cloud build does it (@hubspot/ui-extensions-dev-server mirrors it: `npm ci` in
 * the card folder, then a bundle of the card's entry point from that folder, TypeScript and JSX compiled, React left
 * to the host). Here esbuild bundles the entry named by the card's hsmeta from the card folder, keeping workspace
 * packages at their node_modules path (preserveSymlinks), as the upload's copy of a `file:` dependency is installed.
 * Every source must come from the project folder or from a node_modules folder: nothing from elsewhere in the
 * repository (the backend), which the upload would not carry.
 */

const PROJECT = resolve(__dirname, '..');
const CARD_DIR = join(PROJECT, 'src', 'app', 'cards');
const entrypoint = (JSON.parse(readFileSync(join(CARD_DIR, 'StripePaymentCard-hsmeta.json'), 'utf8')) as { config: { entrypoint: string } })
  .config.entrypoint;

/** HubSpot's build leaves these to the host page (ROLLUP_OPTIONS.external of the dev server). */
const HOST_PROVIDED = ['react', 'react-dom', '@remote-ui/react'];

async function bundle(preserveSymlinks: boolean) {
  const result = await build({
    entryPoints: [join(PROJECT, 'src', entrypoint)],
    absWorkingDir: CARD_DIR,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    jsx: 'automatic',
    preserveSymlinks,
    external: HOST_PROVIDED,
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs).map((p) => resolve(CARD_DIR, p)) };
}

/** Inputs that come neither from the project folder nor from a node_modules folder. */
function strayInputs(inputs: string[]): string[] {
  return inputs.filter((p) => !p.startsWith(PROJECT + sep) && !p.includes(`${sep}node_modules${sep}`));
}

describe('the card bundled from its folder, as HubSpot builds it', () => {
  let built: { code: string; inputs: string[] };
  beforeAll(async () => {
    built = await bundle(true);
  });

  it('bundles the entry named in the card hsmeta, with the shared contracts from node_modules', () => {
    expect(entrypoint).toBe('/app/cards/StripePaymentCard.tsx');
    expect(built.inputs).toContain(join(CARD_DIR, 'StripePaymentCard.tsx'));
    expect(built.inputs.some((p) => p.includes(`${sep}node_modules${sep}@stripe-hubspot-sync${sep}contracts${sep}`))).toBe(true);
    expect(built.inputs.some((p) => p.includes(`${sep}node_modules${sep}@hubspot${sep}ui-extensions${sep}`))).toBe(true);
  });

  it('reads nothing from outside the project and outside node_modules', () => {
    expect(strayInputs(built.inputs)).toEqual([]);
    expect(built.inputs.filter((p) => p.includes(`${sep}backend${sep}`))).toEqual([]);
  });

  it('leaves no require() in the output, and no backend path', () => {
    expect(built.code).not.toMatch(/\brequire\(/);
    expect(built.code).not.toMatch(/backend\/src|card-api|webhook-hubspot/);
    // The contracts package has no side effects: the settings schema (zod) it also exports stays out of the card.
    expect(built.code).not.toMatch(/ZodError|\$ZodType/);
    // React comes from the host page.
    expect(built.code).toMatch(/from\s*"react(\/jsx-runtime)?"/);
  });

  it('catches a source outside the project: without preserveSymlinks the contracts resolve to packages/', async () => {
    const { inputs } = await bundle(false);
    const stray = strayInputs(inputs);
    expect(stray.length).toBeGreaterThan(0);
    expect(stray.every((p) => p.startsWith(resolve(PROJECT, '..', 'packages', 'contracts') + sep))).toBe(true);
  });
});
