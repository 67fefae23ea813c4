/// <reference types="node" />
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import manifest from '../stripe-app.json';

/**
 * A stand-in for the Stripe CLI's build (`stripe apps start` / `upload` bundle each view from this folder): every
 * view the manifest declares is bundled with esbuild from `src/views/<Component>.tsx`, and every file that goes
 * into it must lie inside this folder or in a `node_modules` folder (workspace packages such as the shared
 * contracts are reached through node_modules, symlinks kept). A view that reached into the backend or another
 * workspace by a relative path would build here and break for the CLI, which uploads this folder only.
 */
const APP = resolve(__dirname, '..');

const OPTIONS: BuildOptions = {
  absWorkingDir: APP,
  bundle: true,
  write: false,
  metafile: true,
  platform: 'browser',
  format: 'esm',
  jsx: 'automatic',
  preserveSymlinks: true,
  logLevel: 'silent',
};

/** Inputs of a bundle that are neither in the app's folder nor in a node_modules folder. */
function strayInputs(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs).filter((input) => {
    const file = resolve(APP, input);
    const inApp = !relative(APP, file).startsWith('..') && !isAbsolute(relative(APP, file));
    return !inApp && !file.split(sep).includes('node_modules');
  });
}

describe('the views bundle from the app folder alone', () => {
  it.each(manifest.ui_extension.views.map((v) => [v.viewport, v.component]))(
    '%s → src/views/%s.tsx bundles, takes nothing from outside, and exports the component',
    async (_viewport, component) => {
      const entry = join('src', 'views', `${component}.tsx`);
      expect(existsSync(join(APP, entry))).toBe(true);
      const result = await build({ ...OPTIONS, entryPoints: [entry] });
      expect(result.errors).toEqual([]);
      const inputs = Object.keys(result.metafile!.inputs);
      expect(inputs).toContain(entry.split(sep).join('/'));
      expect(strayInputs(result.metafile!)).toEqual([]);
      // The shared contracts come in as a package, through node_modules.
      expect(inputs.some((i) => i.includes('node_modules/@stripe-hubspot-sync/contracts/'))).toBe(true);
      const [output] = Object.values(result.metafile!.outputs);
      expect(output.exports).toEqual(expect.arrayContaining([component, 'default']));
    },
  );

  it('the check is not vacuous: a file reached outside the app folder is caught', async () => {
    const result = await build({
      ...OPTIONS,
      stdin: { contents: "export * from '../packages/contracts/src/index';", resolveDir: APP, loader: 'ts' },
    });
    expect(strayInputs(result.metafile!)).toEqual(expect.arrayContaining(['../packages/contracts/src/index.ts']));
  });

  it('a declared view without an entry file fails the build', async () => {
    await expect(build({ ...OPTIONS, entryPoints: [join('src', 'views', 'NoSuchView.tsx')] })).rejects.toThrow(/Could not resolve/);
  });
});
