/** The runner's entry on the lab's `app` host (started by main.ts with the lab and the options in its environment). */
import { writeFileSync } from 'node:fs';
import type { LabDescription } from '../../libs/chaos/src/lab.js';
import type { ChaosOptions } from './options.js';
import { runChaos } from './runner.js';

const lab = JSON.parse(process.env['CHAOS_LAB'] ?? 'null') as LabDescription | null;
const options = JSON.parse(process.env['CHAOS_OPTIONS'] ?? 'null') as ChaosOptions | null;
if (!lab || !options?.resultsFile) {
  console.error('in-lab.js is started by scripts/chaos/main.js');
  process.exit(2);
}
runChaos(options, lab).then(
  (results) => {
    writeFileSync(options.resultsFile!, JSON.stringify(results, null, 1));
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
