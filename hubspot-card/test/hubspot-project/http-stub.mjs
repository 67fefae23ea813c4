// Stands in for `@hubspot/local-dev-lib/http` inside parse-project.mjs. The parser asks it for one thing: the
// component schemas of a platform version (GET project-components-external/project-schemas/v3/<version>). It answers
// a schema that accepts any object for each component type our projects use, records the request, and refuses
// anything else.
export const schemaRequests = [];

const COMPONENT_TYPES = ['APPLICATION', 'CARD', 'WEBHOOKS'];

export const http = {
  async get(accountId, options) {
    schemaRequests.push({ accountId, url: options?.url });
    if (!/^project-components-external\/project-schemas\/v3\/[\w.-]+$/.test(options?.url ?? '')) {
      throw new Error(`http-stub: no answer for ${options?.url}`);
    }
    return { data: Object.fromEntries(COMPONENT_TYPES.map((type) => [type, { type: 'object' }])) };
  },
};
