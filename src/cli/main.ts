#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { CollabError } from '../core/errors.js';
import { writeJsonError } from './command.js';
import { registerColdstartCommand } from './coldstart.js';
import { registerCompareCommand } from './compare.js';
import { dataCommand, registerDataCommands } from './data.js';
import { registerDbCommands } from './db.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerExplainCommand } from './explain.js';
import { registerFetchCommand } from './fetch.js';
import { registerModelCommands } from './model.js';
import { registerQuickstartCommand } from './quickstart.js';
import { registerRankCommand } from './rank.js';
import { registerRecommendCommand, registerSimilarCommand } from './recommend.js';
import { registerServeCommand } from './serve.js';
import { registerSplitCommand } from './split.js';
import { registerTrainCommands } from './train.js';

/** Builds the `collab` command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('collab')
    .description('Collaborative filtering for Node.js: train embedding models on MovieLens-style ratings and recommend movies.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error:/, 'collab: usage error:')) });
  program.addHelpText(
    'after',
    '\nExamples:\n  $ collab data info ml-latest-small\n  $ collab train --data ml-latest-small --out model.json\n' +
      '\nDatasets are read from $COLLAB_DATA_DIR (or --data-dir) first, then from the cache that `collab data fetch` fills.',
  );
  registerQuickstartCommand(program);
  registerDataCommands(program);
  registerFetchCommand(dataCommand(program));
  registerSplitCommand(program);
  registerTrainCommands(program);
  registerRecommendCommand(program);
  registerSimilarCommand(program);
  registerExplainCommand(program);
  registerEvaluateCommand(program);
  registerCompareCommand(program);
  registerRankCommand(program);
  registerColdstartCommand(program);
  registerServeCommand(program);
  registerDbCommands(program);
  registerModelCommands(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every other parse problem is bad usage.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      // A script asked for JSON before commander could hand the flags to a command: answer in JSON too.
      if (err.exitCode !== 0 && process.argv.includes('--json')) {
        writeJsonError(new CollabError('USAGE', err.message.replace(/^error: /, '')));
      }
      return;
    }
    throw err;
  }
}

await main();
