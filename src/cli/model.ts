import { Command, Option } from 'commander';
import { CollabError } from '../core/errors.js';
import { loadDataset } from '../data/load.js';
import { readSparkAls, sparkAlsFromTrainedModel, trainedModelFromSparkAls, writeSparkAls } from '../io/spark-als.js';
import { loadTrainedModel, saveTrainedModel } from '../io/trained-model.js';
import { datasetFromStore } from '../server/store/store-dataset.js';
import { openCliStore } from './db.js';
import { runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

/** Flags of `collab model import spark`. */
interface ImportFlags extends GlobalFlags {
  out: string;
  data?: string;
  dataDir?: string;
  db?: string;
}

/** The only foreign format so far; named on the command line so others can join it. */
const FORMATS = ['spark'] as const;

function requireFormat(format: string): void {
  if (!(FORMATS as readonly string[]).includes(format)) throw new CollabError('USAGE', `format must be one of ${FORMATS.join(', ')}, got "${format}"`, { field: 'format' });
}

/** Adds `collab model import spark DIR` and `collab model export spark M.json DIR` to the program. */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description("convert models to and from other systems' formats (Spark MLlib's ALSModel)");
  const imp = model
    .command('import')
    .description("read a Spark ALSModel directory (ALSModel.save) into a collab dot model: same p·q predictions, titles and rated movies from a dataset or the service database")
    .argument('<format>', `source format: ${FORMATS.join(', ')}`)
    .argument('<dir>', 'the directory ALSModel.save wrote (metadata/, userFactors/, itemFactors/)')
    .requiredOption('--out <file>', 'collab model file to write (model.json, with model.weights.bin beside it)')
    .addOption(new Option('--data <dataset>', 'dataset the Spark model was trained on: movie titles and what each user rated (a name, folder or ratings file)'))
    .addOption(new Option('--data-dir <dir>', 'folder holding unpacked datasets, looked at first (default: $COLLAB_DATA_DIR)'))
    .addOption(new Option('--db <file-or-url>', 'service database (SQLite file or postgres:// URL) to take movies and ratings from instead of --data'));
  withExamples(withCommonFlags(imp), 'collab model import spark als-model/ --data ml-latest-small --out spark.json', 'collab model import spark als-model/ --db postgres://collab@localhost/collab --out spark.json');
  imp.action(async (format: string, dir: string, flags: ImportFlags) => {
    await runCommand(flags, (out) => importSpark(format, dir, flags, out));
  });
  const exp = model
    .command('export')
    .description("write a collab dot or mf model as a Spark ALSModel directory that ALSModel.load reads")
    .argument('<format>', `target format: ${FORMATS.join(', ')}`)
    .argument('<model>', 'collab model file of kind dot or mf (collab train --model mf --out)')
    .argument('<dir>', 'directory to create (must not exist)');
  withExamples(withCommonFlags(exp), 'collab model export spark model.json als-model/');
  exp.action(async (format: string, modelPath: string, dir: string, flags: GlobalFlags) => {
    await runCommand(flags, (out) => exportSpark(format, modelPath, dir, out));
  });
}

async function importSpark(format: string, dir: string, flags: ImportFlags, out: Reporter): Promise<{ out: string; rank: number; users: number; movies: number; ratings: number }> {
  requireFormat(format);
  if (flags.data === undefined && flags.db === undefined) throw new CollabError('USAGE', '--data or --db is required: the movies (titles, genres) and ratings the Spark model was trained on', { field: 'data' });
  if (flags.data !== undefined && flags.db !== undefined) throw new CollabError('USAGE', 'give --data or --db, not both', { field: 'db' });
  // read and check the Spark side first: a bad directory fails before any dataset is loaded
  const als = await readSparkAls(dir);
  const ds = flags.db !== undefined ? await datasetFromStore(flags.db, openCliStore) : loadDataset(flags.data!, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir });
  const trained = trainedModelFromSparkAls(als, { ratings: ds.ratings, items: ds.items, name: flags.db !== undefined ? 'the database' : ds.name });
  saveTrainedModel(flags.out, trained);
  const result = { out: flags.out, rank: als.rank, users: als.users.ids.length, movies: als.items.ids.length, ratings: trained.train.ratings.length };
  out.info(`imported Spark ALSModel ${dir}: rank ${result.rank}, ${result.users} users, ${result.movies} movies (${result.ratings} of their ratings from ${flags.db ?? ds.name}) -> ${flags.out} (a dot model)`);
  return result;
}

async function exportSpark(format: string, modelPath: string, dir: string, out: Reporter): Promise<{ dir: string; rank: number; users: number; movies: number }> {
  requireFormat(format);
  const als = sparkAlsFromTrainedModel(loadTrainedModel(modelPath));
  writeSparkAls(dir, als);
  out.info(`wrote Spark ALSModel ${dir}: rank ${als.rank}, ${als.users.ids.length} users, ${als.items.ids.length} movies (load it with ALSModel.load)`);
  return { dir, rank: als.rank, users: als.users.ids.length, movies: als.items.ids.length };
}
