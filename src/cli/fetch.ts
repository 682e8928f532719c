import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { CollabError } from '../core/errors.js';
import { fetchDataset, knownDataset, MOVIELENS_CITATION, type FetchOptions } from '../data/cache.js';
import { KNOWN_DATASETS } from '../data/locate.js';
import { runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface FetchFlags extends GlobalFlags {
  dataDir?: string;
  force?: boolean;
  url?: string;
  sha256?: string;
  verify?: boolean;
}

/** Adds `collab data fetch <name>` to the `data` command. */
export function registerFetchCommand(data: Command): void {
  const cmd = data
    .command('fetch')
    .description(
      'download a MovieLens release from GroupLens, check its pinned sha256, unpack it into the cache ($COLLAB_HOME/datasets) and show its licence',
    )
    .argument('<name>', `dataset name: ${Object.keys(KNOWN_DATASETS).join(', ')}`)
    .addOption(new Option('--data-dir <dir>', 'folder holding unpacked datasets, looked at first (default: $COLLAB_DATA_DIR)'))
    .addOption(new Option('--force', 'download and unpack again even when a copy exists'))
    .addOption(new Option('--url <url>', 'download from this URL instead of files.grouplens.org (a mirror)'))
    .addOption(new Option('--sha256 <hex>', 'expected sha256 of the zip instead of the pinned one (a mirror that re-packs the release)'))
    .addOption(new Option('--no-verify', 'skip the sha256 check (needed for releases with no pinned checksum)'));
  withExamples(
    withCommonFlags(cmd),
    'collab data fetch ml-latest-small',
    'collab data fetch ml-100k --json',
    'COLLAB_HOME=$HOME/collab-cache collab data fetch ml-1m --force',
  );
  cmd.action(async (name: string, flags: FetchFlags) => {
    await runCommand(flags, (out) => fetchCommand(name, flags, out));
  });
}

async function fetchCommand(name: string, flags: FetchFlags, out: Reporter) {
  knownDataset(name);
  if (flags.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(flags.sha256)) {
    throw new CollabError('USAGE', `--sha256 must be 64 hex digits, got "${flags.sha256}"`, { field: 'sha256' });
  }
  const bar = out.tty ? new cliProgress.SingleBar({ stream: process.stderr, format: `${name} [{bar}] {percentage}% {value}/{total} bytes`, hideCursor: true }) : undefined;
  let started = false;
  const options: FetchOptions = {
    force: flags.force === true,
    verify: flags.verify !== false,
    ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
    ...(flags.url !== undefined ? { url: flags.url } : {}),
    ...(flags.sha256 !== undefined ? { expectedSha256: flags.sha256 } : {}),
    onProgress: (received, total) => {
      if (!bar || total === undefined) return;
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(received);
    },
  };
  let result;
  try {
    result = await fetchDataset(name, options);
  } finally {
    if (started) bar!.stop();
  }
  for (const folder of result.incomplete ?? []) out.info(`note: ${folder} lacks the ratings file; ignored it`);
  if (result.status === 'present') {
    out.info(`${name} is already at ${result.path}; nothing downloaded (use --force to fetch it again into the cache)`);
  } else {
    const mb = ((result.bytes ?? 0) / 1e6).toFixed(1);
    const check = result.verified ? `sha256 ${result.sha256} verified` : `sha256 ${result.sha256} NOT verified (--no-verify)`;
    out.info(`fetched ${name} (${mb} MB, ${check}) and unpacked ${result.files} files into ${result.path}`);
  }
  out.info(`Licence: ${result.licence}.`);
  out.info(`Full terms: ${result.readme ?? 'see the README at https://grouplens.org/datasets/movielens/'}`);
  out.info(`Cite: ${MOVIELENS_CITATION}`);
  return { ...result, citation: MOVIELENS_CITATION };
}
