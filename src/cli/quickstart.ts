import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { fetchDataset } from '../data/cache.js';
import { parseRawId } from '../data/id-map.js';
import { collabHome } from '../data/locate.js';
import { loadRecommender } from '../recommend/load.js';
import { intFlag, runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';
import { printRecommendations } from './recommend.js';
import { requirePortFree, serveCommand } from './serve.js';
import { trainFromFlags } from './train.js';

interface QuickstartFlags extends GlobalFlags {
  data: string;
  user: string;
  out?: string;
  dataDir?: string;
  serve?: boolean;
  port: string;
}

/** Registers `collab quickstart`: the README's main job in one command. */
export function registerQuickstartCommand(program: Command): void {
  const cmd = program
    .command('quickstart')
    .description('the whole workflow once: get ml-latest-small (fetching it when no copy is found), train the default model on an 80/20 split, save it, recommend movies for a user, and with --serve start the web page and API on it')
    .option('--data <name>', 'dataset to use', 'ml-latest-small')
    .option('--user <id>', 'user to recommend for', '1')
    .option('--out <file>', 'where to save the model (default $COLLAB_HOME/models/<data>.json)')
    .option('--data-dir <dir>', 'folder holding unpacked datasets')
    .option('--serve', 'then serve the model: web page and API on --port, ratings in $COLLAB_HOME/collab.sqlite')
    .option('--port <n>', 'port for --serve', '3000');
  withExamples(withCommonFlags(cmd), 'collab quickstart', 'collab quickstart --serve --port 8080', 'COLLAB_DATA_DIR=../datasets collab quickstart --user 42 --json');
  cmd.action((flags: QuickstartFlags) =>
    runCommand(flags, async (out) => {
      // a busy port is found before the download and the training, not after
      if (flags.serve) await requirePortFree('127.0.0.1', intFlag('port', flags.port)!);
      const fetched = await fetchDataset(flags.data, flags.dataDir ? { dataDir: flags.dataDir } : {});
      out.info(fetched.status === 'present' ? `using ${flags.data} from ${fetched.path}` : `downloaded ${flags.data} to ${fetched.path}`);
      out.info(`licence: ${fetched.licence}`);
      const modelFile = flags.out ?? join(collabHome(), 'models', `${flags.data}.json`);
      mkdirSync(join(modelFile, '..'), { recursive: true });
      const { result } = await trainFromFlags({ data: fetched.path, out: modelFile }, out);
      const rec = loadRecommender(modelFile);
      const items = rec.recommendForUser(parseRawId(flags.user), { n: 10, explain: true });
      out.info(`\nTop 10 for user ${flags.user}:`);
      printRecommendations(out, items, rec.info.scoreKind ?? 'rating');
      const summary = { data: flags.data, modelFile, validMse: result.validMse, validRmse: result.validRmse, trainSeconds: result.trainSeconds, userId: parseRawId(flags.user), items };
      if (!flags.serve) return summary;
      out.info('');
      const served = await serveCommand({ model: modelFile, port: flags.port, host: '127.0.0.1', db: join(collabHome(), 'collab.sqlite'), data: fetched.path }, out);
      return { ...summary, served };
    }),
  );
}
