import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CollabError } from '../core/errors.js';
import { catalogueOverlap, titlesAgree, type CatalogueEntry } from '../data/identity.js';
import { loadRecommender } from '../recommend/load.js';
import type { Recommender } from '../recommend/types.js';
import { CollabService, catalogueRows, type ServiceOptions } from './service.js';
import { HttpError } from './errors.js';
import type { Store } from './store/store.js';

/** Which model file a replica serves: its checksum and when it was loaded. */
export interface ModelVersion {
  /** sha256 (hex) of the model's manifest file; the manifest holds the weights' sha256, so this names both. */
  sha256: string;
  /** ISO 8601 time this process loaded it. */
  loadedAt: string;
}

/** The model a request works with from start to end, and the service over it. */
export interface ServedModel {
  recommender: Recommender;
  service: CollabService;
  version: ModelVersion;
}

/** sha256 (hex) of a model's manifest file. */
export function modelFileVersion(path: string): ModelVersion {
  return { sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), loadedAt: new Date().toISOString() };
}

/** A recommender's movies as catalogue entries (id and title). */
function catalogueEntries(rec: Pick<Recommender, 'movies'>): CatalogueEntry[] {
  return rec.movies().map((m) => ({ movieId: m.itemId, title: m.title }));
}

/**
 * Throws CATALOGUE_MISMATCH unless `next` describes the same movies as `current`: shared ids must keep
 * their titles (data/identity's rule: a few retitled films pass, more than 5% mean another dataset), and at
 * least half of the new model's movies must be ones the service already knows (a model of another dataset
 * would otherwise answer with other films under the same ids).
 */
export function checkCatalogue(next: Pick<Recommender, 'movies'>, current: Pick<Recommender, 'movies'>): void {
  const given = catalogueEntries(next);
  const { shared, differ, example } = catalogueOverlap(catalogueEntries(current), given);
  if (example !== undefined && !titlesAgree({ shared, differ })) {
    const [m, other] = example;
    throw new CollabError('CATALOGUE_MISMATCH', `movie ${JSON.stringify(m.movieId)} is "${m.title}" in the new model but "${other}" in the served one (${differ} of ${shared} shared movies differ); the new model was trained on another dataset — train it on this service's database (collab train --db)`, { field: 'model' });
  }
  if (shared * 2 < given.length) {
    throw new CollabError('CATALOGUE_MISMATCH', `only ${shared} of the new model's ${given.length} movies are in the served catalogue; the new model was trained on another dataset — train it on this service's database (collab train --db)`, { field: 'model' });
  }
}

/** Options of `ModelSlot`. */
export interface ModelSlotOptions extends ServiceOptions {
  /** Loads a model file (tests swap in a slow or failing loader). Default `loadRecommender`. */
  load?: (path: string) => Promise<Recommender>;
}

/**
 * The model a replica serves, swappable while it serves: each request reads `current` once at its
 * start and keeps that object to the end, so a swap never changes the model under a running request.
 * `reload` verifies the new file (checksum, kind and shapes by loading it; catalogue against the served
 * model) and swaps only when all of it passes; a bad file leaves the served model in place.
 */
export class ModelSlot {
  private served: ServedModel;
  private pending: Promise<ServedModel> | undefined;
  private readonly load: (path: string) => Promise<Recommender>;

  constructor(
    recommender: Recommender,
    readonly store: Store,
    /** The model file reloads read again (collab train --out writes the new model there). */
    readonly path: string | undefined,
    version: ModelVersion,
    private readonly options: ModelSlotOptions = {},
  ) {
    this.load = options.load ?? (async (p) => loadRecommender(p));
    this.served = this.wrap(recommender, version);
  }

  /** The model requests starting now use. */
  get current(): ServedModel {
    return this.served;
  }

  private wrap(recommender: Recommender, version: ModelVersion): ServedModel {
    return { recommender, version, service: new CollabService(recommender, this.store, this.options) };
  }

  /**
   * Loads the model file again, checks it, syncs its catalogue into the database and swaps it in.
   * Throws BAD_MODEL/CHECKSUM_MISMATCH/BAD_FILE (unreadable file) or CATALOGUE_MISMATCH and keeps the
   * served model. Reloads asked for while one runs share its result.
   */
  reload(): Promise<ServedModel> {
    this.pending ??= this.doReload().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async doReload(): Promise<ServedModel> {
    const path = this.path;
    if (path === undefined) throw new CollabError('BAD_MODEL', 'this server was not started from a model file, so there is nothing to reload');
    const version = modelFileVersion(path);
    const next = await this.load(path);
    if (modelFileVersion(path).sha256 !== version.sha256) {
      throw new CollabError('BAD_MODEL', `${path} changed while it was being loaded (a training run still saving?); reload again when it is written`, { field: 'model' });
    }
    checkCatalogue(next, this.served.recommender);
    // like the first start: a retrained model may know movies the database has not seen yet
    await this.store.importMovies(catalogueRows(next));
    this.served = this.wrap(next, version);
    return this.served;
  }
}

/** Codes of a model file that failed its checks on reload (answered 422; CATALOGUE_MISMATCH is 409). */
const REJECTED_FILE_CODES = new Set(['BAD_MODEL', 'CHECKSUM_MISMATCH', 'BAD_FILE', 'NOT_FOUND']);

/**
 * The body of `POST /api/model/reload`: the new model's kind and version, or an HttpError saying why the
 * file was refused (the served model stays): 409 CATALOGUE_MISMATCH, 422 for a bad or unreadable file.
 */
export async function reloadModel(slot: ModelSlot): Promise<{ reloaded: true; kind: string; version: ModelVersion }> {
  try {
    const next = await slot.reload();
    return { reloaded: true, kind: next.recommender.info.kind, version: next.version };
  } catch (err) {
    if (err instanceof CollabError && err.code === 'CATALOGUE_MISMATCH') throw new HttpError(409, err.code, `${err.message}; still serving the previous model`, 'model');
    if (err instanceof CollabError && REJECTED_FILE_CODES.has(err.code)) throw new HttpError(422, 'MODEL_REJECTED', `${err.message}; still serving the previous model`, 'model');
    throw err;
  }
}

/**
 * Reloads the model on every SIGHUP, logging the outcome (a refused file is logged and the served model
 * stays). Returns a function that stops listening.
 */
export function reloadOnSighup(slot: ModelSlot, log: (line: string) => void): () => void {
  const onHup = (): void => {
    slot.reload().then(
      (m) => log(`SIGHUP: now serving ${m.recommender.info.kind} model ${m.version.sha256.slice(0, 12)} from ${slot.path}`),
      (err: unknown) => log(`SIGHUP: kept the served model: ${(err as Error).message}`),
    );
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}
