/** One build stage of a Dockerfile, as far as replaying it without a Docker engine needs. */
export interface DockerStage {
  name: string | null;
  image: string;
  workdir: string;
  env: Record<string, string>;
  steps: DockerStep[];
  cmd: string[] | null;
}

export type DockerStep = { kind: 'copy'; from: string | null; sources: string[]; dest: string } | { kind: 'run'; command: string };

/**
 * Parses the instructions a Node image's Dockerfile uses (FROM … AS, WORKDIR, ENV, COPY [--from], RUN,
 * CMD in exec form; USER and EXPOSE are read and ignored). Anything else is an error, so a new
 * instruction cannot be skipped silently by a replay.
 */
export function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  // Continuation lines join; comments and blank lines go.
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const stage = stages[stages.length - 1];
    const upper = instruction!.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`cannot read: ${line}`);
      stages.push({ name: m[2] ?? null, image: m[1]!, workdir: '/', env: {}, steps: [], cmd: null });
      continue;
    }
    if (!stage) throw new Error(`${upper} before FROM`);
    switch (upper) {
      case 'WORKDIR':
        stage.workdir = args;
        break;
      case 'ENV': {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)[= ](.*)$/.exec(args);
        if (!m) throw new Error(`cannot read: ${line}`);
        stage.env[m[1]!] = m[2]!;
        break;
      }
      case 'COPY': {
        const words = rest.filter((w) => w !== '');
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
        if (words.some((w) => w.startsWith('--'))) throw new Error(`unsupported COPY flag: ${line}`);
        if (words.length < 2) throw new Error(`cannot read: ${line}`);
        stage.steps.push({ kind: 'copy', from, sources: words.slice(0, -1), dest: words[words.length - 1]! });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'run', command: args });
        break;
      case 'CMD':
        stage.cmd = JSON.parse(args) as string[];
        break;
      case 'USER':
      case 'EXPOSE':
        break;
      default:
        throw new Error(`unsupported instruction: ${line}`);
    }
  }
  return stages;
}
