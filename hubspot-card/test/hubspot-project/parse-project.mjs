// Runs HubSpot's own project parser (@hubspot/project-parsing-lib, the library `hs project upload` uses) over a
// developer project and prints what it found as JSON on stdout:
//   node parse-project.mjs <projectDir> [profile]
// → { ok, intermediateRepresentation, skippedHsMetaFiles, schemaRequests, fileDependencies, workspaces, error?,
//     dependencyError? }
//
// `translate` is the upload's translation step: it reads every *-hsmeta.json, applies the profile's variables
// (`${NAME}` placeholders), builds the intermediate representation and validates it (component directories,
// uids, parent app, duplicates, parse errors, then the component schemas). Those schemas are not part of the
// library: HubSpot serves them to the CLI at upload (GET project-components-external/project-schemas/v3/<platform>
// for the account), so this script answers that one request itself (see schema-stub-hooks.mjs) with a schema per
// component type that accepts any object, and reports the request. Everything else is HubSpot's code as published.
import { register } from 'node:module';
import process from 'node:process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

register('./schema-stub-hooks.mjs', import.meta.url);

const [projectArg, profile] = process.argv.slice(2);
const projectDir = resolve(projectArg);
const project = JSON.parse(readFileSync(join(projectDir, 'hsproject.json'), 'utf8'));
const projectSourceDir = join(projectDir, project.srcDir);

const { translate } = await import('@hubspot/project-parsing-lib/translate');
const { findAndParsePackageJsonFiles, collectFileDependencies, collectWorkspaceDirectories } = await import(
  '@hubspot/project-parsing-lib/workspaces'
);
const { schemaRequests } = await import('@hubspot/local-dev-lib/http');

const out = { ok: false, schemaRequests };
try {
  const result = await translate(
    { projectSourceDir, platformVersion: project.platformVersion, accountId: 1234567 },
    profile ? { profile } : undefined,
  );
  out.intermediateRepresentation = result.intermediateRepresentation;
  out.skippedHsMetaFiles = result.skippedHsMetaFiles;
  out.ok = true;
} catch (err) {
  out.error = {
    message: err instanceof Error ? err.message : String(err),
    // A TranslationError lists each file's problems (parse, structure and schema errors).
    files: (Array.isArray(err?.errors) ? err.errors : []).filter((f) => f.errors.length > 0),
  };
}

// What `hs project upload` copies into the archive besides srcDir: `file:` dependencies and npm workspaces that
// live outside it (lib/projects/upload.js of @hubspot/cli calls these two on the package.json files of srcDir).
try {
  const packageJsons = await findAndParsePackageJsonFiles(projectSourceDir);
  out.fileDependencies = (await collectFileDependencies(packageJsons)).map((d) => ({
    packageName: d.packageName,
    localPath: d.localPath,
    kind: d.kind,
    protocol: d.protocol,
    from: d.sourcePackageJsonPath,
  }));
  out.workspaces = (await collectWorkspaceDirectories(packageJsons)).map((w) => ({ dir: w.workspaceDir, from: w.sourcePackageJsonPath }));
} catch (err) {
  // The upload stops here too (e.g. a `file:` dependency that does not resolve).
  out.ok = false;
  out.dependencyError = err instanceof Error ? err.message : String(err);
}

process.stdout.write(JSON.stringify(out));
