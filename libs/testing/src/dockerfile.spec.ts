import { describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile.js';

describe('parseDockerfile', () => {
  it('reads stages, copies (with --from), runs, env and the exec-form command', () => {
    const stages = parseDockerfile(
      [
        '# build',
        'FROM node:20-slim AS build',
        'WORKDIR /app',
        'COPY package.json package-lock.json ./',
        'RUN npm ci \\',
        '  --no-audit',
        'FROM node:20-slim',
        'ENV NODE_ENV=production',
        'COPY --from=build /app/dist dist',
        'USER node',
        'CMD ["node", "main.js"]',
      ].join('\n'),
    );
    expect(stages).toEqual([
      {
        name: 'build',
        image: 'node:20-slim',
        workdir: '/app',
        env: {},
        steps: [
          { kind: 'copy', from: null, sources: ['package.json', 'package-lock.json'], dest: './' },
          { kind: 'run', command: 'npm ci --no-audit' },
        ],
        cmd: null,
      },
      {
        name: null,
        image: 'node:20-slim',
        workdir: '/',
        env: { NODE_ENV: 'production' },
        steps: [{ kind: 'copy', from: 'build', sources: ['/app/dist'], dest: 'dist' }],
        cmd: ['node', 'main.js'],
      },
    ]);
  });

  it('refuses what it cannot replay', () => {
    expect(() => parseDockerfile('FROM a\nADD x y')).toThrow(/unsupported instruction/);
    expect(() => parseDockerfile('FROM a\nCOPY --chown=node x y')).toThrow(/unsupported COPY flag/);
    expect(() => parseDockerfile('RUN x')).toThrow(/before FROM/);
  });
});
