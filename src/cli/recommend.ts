import { Option, type Command } from 'commander';
import { CollabError } from '../core/errors.js';
import { parseRawId } from '../data/id-map.js';
import cliProgress from 'cli-progress';
import { writeAllRecommendations, type AllUsersRecommender } from '../recommend/all-users.js';
import { loadRecommender } from '../recommend/load.js';
import { ranksByHistory, type GivenRating, type RecommendOptions, type ScoredItem } from '../recommend/types.js';
import { intFlag, runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface RecommendFlags extends GlobalFlags {
  model: string;
  user?: string;
  ratings?: string;
  n: string;
  genre?: string;
  yearFrom?: string;
  yearTo?: string;
  minRatings?: string;
  includeRated?: boolean;
  explain?: boolean;
  all?: boolean;
  out?: string;
}

/** Parses "1:5,260:4.5" into (movie, rating) pairs, naming the bad pair. */
export function parseRatingsFlag(text: string): GivenRating[] {
  const pairs = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (pairs.length === 0) throw new CollabError('USAGE', '--ratings is empty; give pairs like "1:5,260:4.5"', { field: 'ratings' });
  return pairs.map((pair) => {
    const m = /^([^:]+):([^:]+)$/.exec(pair);
    const rating = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(rating)) {
      throw new CollabError('USAGE', `--ratings: "${pair}" is not movieId:rating (example "1:5,260:4.5")`, { field: 'ratings' });
    }
    return { itemId: parseRawId(m[1]!.trim()), rating };
  });
}

/** Writes a ranked list of movies as a small table; `rankLabel` adds the column the list is sorted by. */
export function printItems(out: Reporter, items: ScoredItem[], scoreLabel: string, reason = 'because you liked', rankLabel?: string): void {
  const rankHead = rankLabel === undefined ? '' : `  ${rankLabel.padStart(10)}`;
  out.info(`${'#'.padStart(3)}  ${'movie'.padStart(7)}  ${scoreLabel.padStart(6)}${rankHead}  title`);
  items.forEach((it, t) => {
    const rank = rankLabel === undefined ? '' : `  ${(it.rankScore ?? NaN).toFixed(3).padStart(10)}`;
    out.info(`${String(t + 1).padStart(3)}  ${String(it.itemId).padStart(7)}  ${it.score.toFixed(3).padStart(6)}${rank}  ${it.title}${it.genres.length ? `  [${it.genres.join('|')}]` : ''}`);
    if (it.because?.length) out.info(`${' '.repeat(23 + rankHead.length)}${reason}: ${it.because.map((b) => `${b.title} (${b.rating})`).join('; ')}`);
  });
}

/** How a recommendation list is ordered, in one line above its table. */
export const RANK_ORDER_LINE = {
  rating: 'sorted by rank score = predicted rating + 0.5 x a popularity term (ln(1 + training ratings), or a hybrid\'s learned pick score), so a higher rating can sit lower',
  ease: 'sorted by EASE score (from what was watched; not a rating)',
  ials: 'sorted by iALS score (preference from what was watched; not a rating)',
  visitor: 'sorted by rank score = predicted rating + 0.5 x (a co-watch term: how many of the people who rated your movies rated it, + a content term: how alike it is to the movies you rated highest), so a higher rating can sit lower',
} as const;

/**
 * Writes recommendations: the line that says how they are ordered, then the table; a rating model's
 * rows show the predicted rating beside the rank score they are sorted by.
 */
export function printRecommendations(out: Reporter, items: ScoredItem[], scoreKind: 'rating' | 'ease' | 'ials', foldIn = false): void {
  out.info(RANK_ORDER_LINE[scoreKind === 'rating' && foldIn ? 'visitor' : scoreKind]);
  if (scoreKind !== 'rating') printItems(out, items, 'score', 'because you watched');
  else printItems(out, items, 'rating', 'because you liked', 'rank score');
}

/** Registers `collab recommend`. */
export function registerRecommendCommand(program: Command): void {
  const cmd = program
    .command('recommend')
    .description('top-N movies for a known user (--user), for a new one described by a few ratings (--ratings, fold-in, no retraining), or for every user into a file (--all --out)')
    .requiredOption('--model <file>', 'model file written by `collab train --out`')
    .option('--user <id>', 'a user id from the training data')
    .option('--ratings <pairs>', 'a new user\'s ratings as movieId:rating pairs, e.g. "1:5,260:4.5,1196:5"; with --user, that user\'s new ratings')
    .option('-n, --n <count>', 'number of movies', '10')
    .option('--genre <name>', 'only movies of this genre (e.g. Comedy)')
    .option('--year-from <year>', 'only movies released in or after this year')
    .option('--year-to <year>', 'only movies released in or before this year')
    .option('--min-ratings <count>', 'only movies with at least this many training ratings (default 5)')
    .option('--include-rated', 'include movies the user already rated (by default everything the model\'s data holds of them, training and validation parts, is left out)')
    .option('--explain', 'add "because you liked ..." reasons')
    .option('--all', 'recommend for every user of the model into the --out file (CSV userId,rank,movieId,score)')
    .option('--out <file>', 'with --all: the CSV file to write (written whole or not at all)');
  withExamples(
    withCommonFlags(cmd),
    'collab recommend --model model.json --user 1',
    'collab recommend --model model.json --ratings "1:5,260:4.5,1196:5" --genre Comedy --json',
    'collab recommend --model model.json --user 1 --ratings "2571:1"',
    'collab recommend --model model.json --all --out recs.csv -n 10',
  );
  cmd.action((flags: RecommendFlags) =>
    runCommand(flags, async (out) => {
      if (flags.all && (flags.user !== undefined || flags.ratings !== undefined)) {
        throw new CollabError('USAGE', '--all recommends for every user of the model; leave out --user and --ratings', { field: 'all' });
      }
      if (flags.all && flags.out === undefined) throw new CollabError('USAGE', '--all needs --out FILE (the CSV to write)', { field: 'out' });
      if (!flags.all && flags.out !== undefined) throw new CollabError('USAGE', '--out goes with --all (recommendations for every user)', { field: 'out' });
      if (!flags.all && flags.user === undefined && flags.ratings === undefined) {
        throw new CollabError('USAGE', 'give --user ID, --ratings "movieId:rating,...", or both (a known user\'s new ratings)', { field: 'user' });
      }
      const n = intFlag('n', flags.n)!;
      if (n < 1) throw new CollabError('USAGE', `-n must be a positive integer, got ${n}`, { field: 'n' });
      const options: RecommendOptions = { n, explain: flags.explain === true, includeRated: flags.includeRated === true };
      if (flags.genre) options.genre = flags.genre;
      const yearFrom = intFlag('year-from', flags.yearFrom);
      const yearTo = intFlag('year-to', flags.yearTo);
      const minRatings = intFlag('min-ratings', flags.minRatings);
      if (yearFrom !== undefined) options.yearFrom = yearFrom;
      if (yearTo !== undefined) options.yearTo = yearTo;
      if (minRatings !== undefined) options.minRatings = minRatings;
      const rec = loadRecommender(flags.model);
      if (flags.all) return allUsers(rec, flags.model, flags.out!, options, out);
      const started = performance.now();
      let items: ScoredItem[];
      let heading: string;
      if (flags.ratings === undefined) {
        items = rec.recommendForUser(parseRawId(flags.user!), options);
        heading = `Top ${items.length} for user ${flags.user}:`;
      } else if (flags.user === undefined) {
        items = rec.recommendForRatings(parseRatingsFlag(flags.ratings), options);
        heading = `Top ${items.length} for the given ratings (${ranksByHistory(rec.info) ? 'as the watch history' : 'fold-in'}):`;
      } else {
        // A known user's new ratings join (and override) their training ratings; the user is folded in again.
        const given = new Map(rec.userRatings(parseRawId(flags.user)).map((r) => [r.itemId, r.rating]));
        for (const r of parseRatingsFlag(flags.ratings)) given.set(r.itemId, r.rating);
        items = rec.recommendForRatings([...given].map(([itemId, rating]) => ({ itemId, rating })), { ...options, seenBy: parseRawId(flags.user) });
        heading = `Top ${items.length} for user ${flags.user} with the new ratings (fold-in over ${given.size} ratings):`;
      }
      const ms = performance.now() - started;
      out.info(heading);
      // EASE and iALS scores rank movies but are not ratings; say which the numbers are.
      const scoreKind = rec.info.scoreKind ?? 'rating';
      printRecommendations(out, items, scoreKind, flags.ratings !== undefined);
      return { ...(flags.user !== undefined ? { userId: parseRawId(flags.user) } : {}), foldIn: flags.ratings !== undefined, scoreKind, items, milliseconds: ms };
    }),
  );
}

/** `collab recommend --all`: every user's list into a CSV file, with a progress bar on a terminal. */
async function allUsers(rec: AllUsersRecommender, modelPath: string, path: string, options: RecommendOptions, out: Reporter) {
  const started = performance.now();
  const bar = out.tty ? new cliProgress.SingleBar({ stream: process.stderr, clearOnComplete: true, hideCursor: true, format: ' {bar} {percentage}% | users {value}/{total} | eta {eta}s' }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(rec.info.nUsers, 0);
  let written: { users: number; rows: number };
  try {
    written = await writeAllRecommendations(rec, path, options, {
      modelPath,
      onProgress: (done, total) => {
        if (done % 256 === 0 || done === total) bar?.update(done);
      },
    });
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  out.info(`wrote top ${options.n} for ${written.users} users (${written.rows} rows) to ${path} in ${seconds.toFixed(2)} s (${Math.round(written.users / seconds)} users/s)`);
  return { out: path, users: written.users, rows: written.rows, seconds, scoreKind: rec.info.scoreKind ?? 'rating' };
}

/** Registers `collab similar`. */
export function registerSimilarCommand(program: Command): void {
  const cmd = program
    .command('similar')
    .description('movies most similar to a movie by cosine similarity of their learned embeddings')
    .requiredOption('--model <file>', 'model file written by `collab train --out`')
    .requiredOption('--item <id>', 'a movie id')
    .option('-n, --n <count>', 'number of movies', '10')
    .option('--min-ratings <count>', 'leave out movies with fewer training ratings (rare movies have noisy embeddings; default 20)')
    .addOption(new Option('--by <what>', 'embeddings (learned from ratings) or content (genres, year and title words)').choices(['embeddings', 'content']).default('embeddings'));
  withExamples(withCommonFlags(cmd), 'collab similar --model model.json --item 1', 'collab similar --model model.json --item 1 --by content', 'collab similar --model model.json --item 260 -n 5 --json');
  cmd.action((flags: GlobalFlags & { model: string; item: string; n: string; minRatings?: string; by: 'embeddings' | 'content' }) =>
    runCommand(flags, async (out) => {
      const n = intFlag('n', flags.n)!;
      if (n < 1) throw new CollabError('USAGE', `-n must be a positive integer, got ${n}`, { field: 'n' });
      const minRatings = intFlag('min-ratings', flags.minRatings);
      if (minRatings !== undefined && minRatings < 0) throw new CollabError('USAGE', `--min-ratings must be 0 or more, got ${minRatings}`, { field: 'min-ratings' });
      const rec = loadRecommender(flags.model);
      const itemId = parseRawId(flags.item);
      const items = flags.by === 'content' ? rec.similarByContent(itemId, n, minRatings) : rec.similarItems(itemId, n, minRatings);
      out.info(`Most similar to ${rec.movie(itemId)?.title ?? itemId}${flags.by === 'content' ? ' by content' : ''}:`);
      // An EASE model's similar movies are rows of B (the score of j for a history of just this movie), not cosines.
      const scoreKind = flags.by === 'embeddings' && rec.info.scoreKind === 'ease' ? 'ease' : 'cosine';
      printItems(out, items, scoreKind === 'ease' ? 'B_ij' : 'cosine');
      return { itemId, by: flags.by, scoreKind, items };
    }),
  );
}

