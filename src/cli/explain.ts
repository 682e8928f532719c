import type { Command } from 'commander';
import { loadTrainedModel } from '../io/trained-model.js';
import { scatterChart } from '../plot/charts.js';
import { writePlot } from '../plot/render.js';
import { interpretModel } from '../recommend/interpret.js';
import { intFlag, runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface ExplainFlags extends GlobalFlags {
  model: string;
  n: string;
  top: string;
  components: string;
  plot?: string;
  plotMovies: string;
}

/** Registers `collab explain`: biases and the PCA of the movie embeddings, as in the fastai lesson. */
export function registerExplainCommand(program: Command): void {
  const cmd = program
    .command('explain')
    .description('what the model learned: movies with the lowest/highest bias (mean rating beside) and the principal components of the movie embeddings')
    .requiredOption('--model <file>', 'model file written by `collab train --out`')
    .option('-n, --n <count>', 'movies listed at each end', '10')
    .option('--top <count>', 'analyse only the most-rated movies', '1000')
    .option('--components <count>', 'principal components to report', '3')
    .option('--plot <file>', 'draw the most-rated movies on the first two components (.svg or .png)')
    .option('--plot-movies <count>', 'movies drawn in the plot', '50');
  withExamples(withCommonFlags(cmd), 'collab explain --model model.json', 'collab explain --model model.json --plot pca.png --json');
  cmd.action((flags: ExplainFlags) =>
    runCommand(flags, async (out) => {
      const trained = loadTrainedModel(flags.model);
      const result = interpretModel(trained, {
        n: intFlag('n', flags.n)!,
        topMovies: intFlag('top', flags.top)!,
        components: intFlag('components', flags.components)!,
      });
      if (result.biases) {
        out.info('Lowest movie bias (bias, mean rating, ratings):');
        for (const b of result.biases.lowest) out.info(`  ${b.bias.toFixed(3).padStart(7)}  ${b.meanRating.toFixed(2)}  ${String(b.ratingCount).padStart(5)}  ${b.title}`);
        out.info('Highest movie bias:');
        for (const b of result.biases.highest) out.info(`  ${b.bias.toFixed(3).padStart(7)}  ${b.meanRating.toFixed(2)}  ${String(b.ratingCount).padStart(5)}  ${b.title}`);
      }
      for (const c of result.components) {
        out.info(`Component ${c.component} (${(100 * c.explainedRatio).toFixed(1)}% of variance)`);
        out.info(`  low end:  ${c.lowest.map((m) => m.title).join('; ')}`);
        out.info(`  high end: ${c.highest.map((m) => m.title).join('; ')}`);
      }
      if (flags.plot) {
        const count = intFlag('plot-movies', flags.plotMovies)!;
        const spec = scatterChart({
          points: result.points.slice(0, count).map((p) => ({ x: p.x, y: p.y, label: p.title })),
          title: `Movie embeddings: the ${Math.min(count, result.points.length)} most-rated movies on the first two principal components`,
          xTitle: 'component 1',
          yTitle: 'component 2',
          maxLabels: count,
        });
        await writePlot(flags.plot, spec);
        out.info(`plot written to ${flags.plot}`);
      }
      return { biases: result.biases ?? null, components: result.components, ...(flags.plot ? { plot: flags.plot } : {}) };
    }),
  );
}
