import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNC_EVENT_TYPES } from '@stripe-hubspot-sync/contracts';
import { LIFECYCLE_EVENT_TYPES } from '../../src/ingest/ingestor';
import { BACKEND_DIR } from '../helpers/server';

/** README "Run it for real": the event list is the catalog's, and every command and file it names exists. */
const REPO = join(BACKEND_DIR, '..');
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const section = /\n## Run it for real\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
const scriptsOf = (dir: string) =>
  (JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('README: Run it for real', () => {
  it('exists', () => {
    expect(section.length).toBeGreaterThan(500);
  });

  it('lists exactly the events the backend handles for the webhook endpoint', () => {
    const block = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const listed = block.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(listed).toEqual([...SYNC_EVENT_TYPES, ...LIFECYCLE_EVENT_TYPES]);
  });

  it('names only npm scripts, profiles, files and sections the repository has', () => {
    const runs = [...section.matchAll(/(?:cd ([\w-]+) && )?npm run ([\w:-]+)/g)];
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const [, dir, script] of runs) expect(Object.keys(scriptsOf(dir ?? '.'))).toContain(script);
    for (const [, profile] of section.matchAll(/hs project upload --profile (\w+)/g)) {
      expect(existsSync(join(REPO, 'hubspot-card', 'src', `hsprofile.${profile}.json`))).toBe(true);
    }
    const paths = [...section.matchAll(/`((?:[\w.-]+\/)*(?:Dockerfile|[\w.-]+\.(?:yaml|ts|json|example)))`/g)].map((m) => m[1]);
    expect(paths).toEqual(expect.arrayContaining(['Dockerfile', 'compose.yaml', 'packages/contracts/src/catalog.ts', 'stripe-app/stripe-app.json']));
    paths.push(...[...section.matchAll(/^cp (\S+) /gm)].map((m) => m[1]));
    expect(paths).toContain('backend/.env.example');
    for (const path of paths) expect(existsSync(join(REPO, path))).toBe(true);
    const headings = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^\w -]/g, '').replace(/ /g, '-')));
    for (const [, anchor] of section.matchAll(/\]\(#([\w-]+)\)/g)) expect(headings).toContain(anchor);
  });
});
