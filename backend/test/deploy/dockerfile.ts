/**
 * A reader for the subset of the Dockerfile syntax our Dockerfile uses (FROM … AS, WORKDIR, COPY [--from] [--chown],
 * RUN, ENV k=v…, USER, EXPOSE, HEALTHCHECK [opts] CMD […], CMD […]), so the deploy test can run the image's own
 * commands instead of a copy of them.
 */

export interface Instruction {
  keyword: string;
  /** `--name=value` options before the arguments. */
  flags: Record<string, string>;
  /** The rest of the line, continuations joined. */
  args: string;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*#/.test(raw)) continue;
    const continued = /\\\s*$/.test(raw);
    pending += continued ? raw.replace(/\\\s*$/, ' ') : raw;
    if (continued) continue;
    if (pending.trim()) lines.push(pending.trim().replace(/\s+/g, ' '));
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(' ');
    const words = [...rest];
    const flags: Record<string, string> = {};
    while (words[0]?.startsWith('--')) {
      const [k, v = ''] = (words.shift() as string).slice(2).split('=');
      flags[k] = v;
    }
    const instruction: Instruction = { keyword: keyword.toUpperCase(), flags, args: words.join(' ') };
    if (instruction.keyword === 'FROM') {
      const m = /^(\S+)(?: AS (\S+))?$/i.exec(instruction.args);
      if (!m) throw new Error(`Dockerfile: cannot read FROM ${instruction.args}`);
      stages.push({ image: m[1], name: m[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile: ${keyword} before FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

export function stage(stages: Stage[], name: string): Stage {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile: no stage ${name}`);
  return found;
}

export function only(s: Stage, keyword: string): Instruction {
  const found = s.instructions.filter((i) => i.keyword === keyword);
  if (found.length !== 1) throw new Error(`Dockerfile: stage ${s.name} has ${found.length} ${keyword}, expected one`);
  return found[0];
}

/** The exec form of CMD / HEALTHCHECK CMD (a JSON array). */
export function execForm(args: string): string[] {
  const json = args.replace(/^CMD /, '');
  if (!json.startsWith('[')) throw new Error(`Dockerfile: use the exec form (a JSON array): ${args}`);
  return JSON.parse(json) as string[];
}

/** The variables every ENV instruction of the stage sets (`ENV a=1 b=2`). */
export function envOf(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of s.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const pair of i.args.split(' ')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`Dockerfile: write ENV as name=value: ${i.args}`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}
