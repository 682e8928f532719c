import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { fetchDataset } from '../data/cache.js';
import { collabHome } from '../data/locate.js';
import { loadRecommender } from '../recommend/load.js';
import { runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';
import { printItems } from './recommend.js';
import { trainFromFlags } from './train.js';

interface QuickstartFlags extends GlobalFlags {
  data: string;
  user: string;
  out?: string;
  dataDir?: string;
}

/** Registers `collab quickstart`: the README's main job in one command. */
export function registerQuickstartCommand(program: Command): void {
  const cmd = program
    .command('quickstart')
    .description('the whole workflow once: get ml-latest-small (fetching it when no copy is found), train the default model on an 80/20 split, save it, and recommend movies for a user')
    .option('--data <name>', 'dataset to use', 'ml-latest-small')
    .option('--user <id>', 'user to recommend for', '1')
    .option('--out <file>', 'where to save the model (default $COLLAB_HOME/models/<data>.json)')
    .option('--data-dir <dir>', 'folder holding unpacked datasets');
  withExamples(withCommonFlags(cmd), 'collab quickstart', 'COLLAB_DATA_DIR=../datasets collab quickstart --user 42 --json');
  cmd.action((flags: QuickstartFlags) =>
    runCommand(flags, async (out) => {
      const fetched = await fetchDataset(flags.data, flags.dataDir ? { dataDir: flags.dataDir } : {});
      out.info(fetched.status === 'present' ? `using ${flags.data} from ${fetched.path}` : `downloaded ${flags.data} to ${fetched.path}`);
      out.info(`licence: ${fetched.licence}`);
      const modelFile = flags.out ?? join(collabHome(), 'models', `${flags.data}.json`);
      mkdirSync(join(modelFile, '..'), { recursive: true });
      const { result } = await trainFromFlags({ data: fetched.path, out: modelFile }, out);
      const rec = await loadRecommender(modelFile);
      const items = rec.recommendForUser(Number(flags.user), { n: 10, explain: true });
      out.info(`\nTop 10 for user ${flags.user}:`);
      printItems(out, items, 'score');
      return { data: flags.data, modelFile, validMse: result.validMse, validRmse: result.validRmse, trainSeconds: result.trainSeconds, userId: Number(flags.user), items };
    }),
  );
}
