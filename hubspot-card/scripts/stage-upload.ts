import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * `hs project upload` sends only the project folder, and HubSpot builds the card from it. The card imports the
 * shared API contract from backend/src/contracts (one source of truth for the backend, the Stripe App and the card),
 * which lies outside the folder. This stages an upload copy: the project, plus those contract files copied beside
 * the card, with the card's one contract import path (src/app/cards/lib/contracts.ts) pointed at the copies.
 *
 *   npm run stage-upload -w hubspot-card [-- <dest>]    then    cd <dest> && hs project upload
 */

const PROJECT = resolve(__dirname, '..');
const CONTRACTS_SOURCE = resolve(PROJECT, '..', 'backend', 'src', 'contracts');
const SEAM = join('src', 'app', 'cards', 'lib', 'contracts.ts');
const BACKEND_IMPORT = '../../../../../backend/src/contracts/';
const STAGED_IMPORT = './shared-contracts/';
/** The contract files the card imports, and the files those import (types included, so the copy type-checks). */
const CONTRACT_FILES = ['api.ts', 'catalog.ts', 'settings.ts', 'money.ts'];

export const DEFAULT_STAGE_DIR = join(PROJECT, '.hs-upload');

export function stageUpload(dest: string = DEFAULT_STAGE_DIR): string {
  const target = resolve(dest);
  if (target === PROJECT || PROJECT.startsWith(target + '/')) throw new Error(`Refusing to stage into ${target}`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });

  cpSync(join(PROJECT, 'hsproject.json'), join(target, 'hsproject.json'));
  cpSync(join(PROJECT, 'src'), join(target, 'src'), {
    recursive: true,
    filter: (path) => !path.split(/[\\/]/).includes('node_modules'),
  });

  const seamPath = join(target, SEAM);
  const seam = readFileSync(seamPath, 'utf8');
  if (!seam.includes(BACKEND_IMPORT)) throw new Error(`${SEAM} no longer imports ${BACKEND_IMPORT}: update stage-upload.ts`);
  writeFileSync(seamPath, seam.split(BACKEND_IMPORT).join(STAGED_IMPORT));

  const sharedDir = join(dirname(seamPath), STAGED_IMPORT);
  mkdirSync(sharedDir, { recursive: true });
  for (const file of CONTRACT_FILES) {
    const source = join(CONTRACTS_SOURCE, file);
    if (!existsSync(source)) throw new Error(`Missing contract file ${source}`);
    cpSync(source, join(sharedDir, file));
  }
  return target;
}

if (require.main === module) {
  const dest = stageUpload(process.argv[2]);
  process.stdout.write(`Staged the HubSpot project in ${dest}\nNext: cd ${dest} && hs project upload\n`);
}
