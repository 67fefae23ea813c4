// Copies the SQL migrations next to the compiled code (tsc copies only .ts).
const { cpSync } = require('node:fs');
const { join } = require('node:path');
cpSync(join(__dirname, '..', 'src', 'adapters', 'store', 'migrations'), join(__dirname, '..', 'dist', 'adapters', 'store', 'migrations'), { recursive: true });
