// Module hooks for parse-project.mjs: `@hubspot/local-dev-lib/http` (the CLI's authenticated client to HubSpot's
// API) resolves to http-stub.mjs, so the parser's one network request stays on this machine.
import { URL } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === '@hubspot/local-dev-lib/http') {
    return { url: new URL('./http-stub.mjs', import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
