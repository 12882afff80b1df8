/**
 * bench:console's first measure, the console's initial JavaScript, and the console it is taken from
 * (unless BENCH_CONSOLE_DIR names one), built apart so the shared dist/console is not disturbed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { initialScripts, scriptFile } from '../../libs/testing/src/initial-scripts.js';
import { startProcess } from '../../libs/testing/src/index.js';

/**
 * Builds the console with Vite into a temporary directory (the shared dist/console is left alone).
 * `defer` receives the steps that undo it (stop Vite, remove the directory), run by the caller's cleanup
 * in reverse order, so a signal during the build leaves nothing behind.
 */
export async function buildConsole(defer: (step: () => Promise<unknown> | void) => void): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'vigil-bench-console-'));
  defer(() => rmSync(outDir, { recursive: true, force: true }));
  const require = createRequire(import.meta.url);
  const viteBin = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const vite = startProcess(process.execPath, [viteBin, 'build', '--config', 'apps/console/vite.config.ts', '--outDir', outDir, '--emptyOutDir']);
  defer(() => vite.stop('SIGTERM', 2000));
  const code = await vite.exited;
  if (code !== 0) throw new Error(`vite build failed (${code}): ${vite.output().slice(-3000)}`);
  return outDir;
}

export interface InitialJs {
  files: { file: string; bytes: number; gzip: number }[];
  bytes: number;
  gzip: number;
}

/**
 * Every script and module preload of the built `index.html`, each file's size and its size gzipped at
 * zlib level 9 (what a server compressing at its best would send).
 */
export function initialJs(consoleDir: string): InitialJs {
  const refs = initialScripts(readFileSync(join(consoleDir, 'index.html'), 'utf8'));
  if (refs.length === 0) throw new Error(`no script in ${consoleDir}/index.html`);
  const files = refs.map((ref) => {
    const file = scriptFile(ref);
    const content = readFileSync(join(consoleDir, file));
    return { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
  });
  return { files, bytes: files.reduce((a, f) => a + f.bytes, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) };
}
