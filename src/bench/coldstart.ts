/**
 * Cold-start benchmark (issue 6): new users given 0/1/5/10 ratings and new movies predicted from
 * metadata, hybrid vs content vs dotbias fold-in vs bias baseline vs popularity. Prints the table and a
 * JSON line. Seeded: the same command prints the same figures.
 *
 * usage: node dist/bench/coldstart.js [dataset=ml-100k] [--users 100] [--items 0.1] [--seed 42] [--epochs 5] [--user-id-dropout 0] [--item-id-dropout 0.1] [--lambda 10] [--bias-lambda 5]
 *   ml-100k runs both protocols (it has demographics); ml-latest-small runs new movies (genres, year, tags).
 */
import { loadDataset } from '../data/load.js';
import { coldStartBenchmark, formatColdStartTable } from '../evaluate/coldstart.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const spec = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'ml-100k';
const data = loadDataset(spec);
const report = await coldStartBenchmark(data, {
  heldOutUsers: arg('users', 100),
  heldOutItemPct: arg('items', 0.1),
  seed: arg('seed', 42),
  epochs: arg('epochs', 5),
  userIdDropout: arg('user-id-dropout', 0),
  itemIdDropout: arg('item-id-dropout', 0.1),
  foldInLambda: arg('lambda', 10),
  foldInBiasLambda: arg('bias-lambda', 5),
  onProgress: (line) => console.error(line),
});
console.log(
  `${report.dataset}: ${report.heldOutUsers} new users, ${report.heldOutItems} new movies, train ${report.trainRatings} ratings; ` +
    `hybrid features: users [${report.userFeatures.join(', ')}], movies [${report.itemFeatures.join(', ')}]; relevant = rating >= ${report.threshold}`,
);
for (const line of formatColdStartTable(report)) console.log(line);
console.log(JSON.stringify(report));
