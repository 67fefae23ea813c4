import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config';
import { BACKEND_DIR } from '../helpers/server';

/** `npm start` with a bad configuration: prints which variables are wrong and exits 1 before opening anything. */
describe('main', () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!(CONFIG_VARIABLES as string[]).includes(k) && k !== 'NODE_OPTIONS') env[k] = v;
  }

  it('exits 1 naming every invalid variable, without leaking secret values', () => {
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
      cwd: BACKEND_DIR,
      env: { ...env, PORT: 'not-a-port', NODE_ENV: 'production', STRIPE_API_KEY: 'pk_live_secretvalue', DATA_DIR: '/nonexistent/never-created' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('STRIPE_WEBHOOK_SECRET');
    expect(r.stderr).toContain('STRIPE_API_KEY');
    expect(r.stderr + r.stdout).not.toContain('secretvalue');
  });

  it('refuses production on the embedded database, naming the opt-in, before creating anything', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'shs-main-')), 'never-created');
    try {
      const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
        cwd: BACKEND_DIR,
        env: { ...env, NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_topsecret', DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('DATABASE_URL');
      expect(r.stderr).toContain('ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION=true');
      expect(r.stderr + r.stdout).not.toContain('topsecret');
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      rmSync(dirname(dataDir), { recursive: true, force: true });
    }
  });
});
