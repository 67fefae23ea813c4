import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stageUpload } from '../scripts/stage-upload';

/**
 * What `hs project upload` would send must build on its own: stage a copy outside the repository and bundle the
 * card's entry point from it the way HubSpot's build does (TypeScript types dropped, react and ui-extensions
 * provided by the card's package.json). Any import that still reaches outside the project fails the bundle.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-upload-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('stages a self-contained project whose card bundles with only its declared dependencies', async () => {
  const staged = stageUpload(join(dir, 'project'));

  const seam = readFileSync(join(staged, 'src/app/cards/lib/contracts.ts'), 'utf8');
  expect(seam).not.toMatch(/from '[^']*backend\//);
  expect(seam).toContain("from './shared-contracts/money'");
  for (const file of ['api.ts', 'money.ts']) {
    expect(readFileSync(join(staged, 'src/app/cards/lib/shared-contracts', file), 'utf8')).toBe(
      readFileSync(join(__dirname, '../../backend/src/contracts', file), 'utf8'),
    );
  }

  const cardPackage = JSON.parse(readFileSync(join(staged, 'src/app/cards/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const external = Object.keys(cardPackage.dependencies).flatMap((name) => [name, `${name}/*`]);
  const result = await build({
    absWorkingDir: staged,
    entryPoints: ['src/app/cards/StripePaymentCard.tsx'],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    external,
    logLevel: 'silent',
  });

  const inputs = Object.keys(result.metafile.inputs);
  for (const input of inputs) expect(relative(staged, join(staged, input)).startsWith('..')).toBe(false);
  expect(inputs).toContain('src/app/cards/lib/shared-contracts/money.ts');
  const code = result.outputFiles[0]!.text;
  expect(code).toContain('https://api.stripe-hubspot-sync.dev');
  expect(code).toContain('/api/card/v1');
  expect(code).not.toContain('zod');
});
