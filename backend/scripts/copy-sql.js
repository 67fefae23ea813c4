// Copies the SQL migrations next to the compiled code (tsc copies only .ts). The target is emptied first, so a
// migration renamed or removed in src never lingers in dist (the loader applies every NNN_*.sql it finds there).
const { cpSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const target = join(__dirname, '..', 'dist', 'adapters', 'store', 'migrations');
rmSync(target, { recursive: true, force: true });
cpSync(join(__dirname, '..', 'src', 'adapters', 'store', 'migrations'), target, { recursive: true });
