import { spawnSync } from 'node:child_process';
import { CONFIG_VARIABLES } from '../../src/config';
import { BACKEND_DIR } from '../helpers/server';

/** `npm start` with a bad configuration: prints which variables are wrong and exits 1 before opening anything. */
describe('main', () => {
  it('exits 1 naming every invalid variable, without leaking secret values', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!(CONFIG_VARIABLES as string[]).includes(k) && k !== 'NODE_OPTIONS') env[k] = v;
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
});
