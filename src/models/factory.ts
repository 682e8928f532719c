import { CollabError } from '../core/errors.js';
import type { ModelKind, RatingModel } from './model.js';
import { EmbeddingDot, type DotOptions } from './dot.js';
import { EmbeddingDotBias, type DotBiasOptions } from './dotbias.js';
import { BiasedMF, type MFOptions } from './mf.js';
import { EmbeddingNN, type EmbeddingNNOptions } from './nn.js';
import { HybridModel, type HybridOptions } from './hybrid.js';

/** The model kinds {@link createModel} can build in this build. */
export const MODEL_KINDS: readonly ModelKind[] = ['dot', 'dotbias', 'nn', 'mf', 'hybrid'];

/**
 * Builds a fresh model of `kind` for nUsers × nItems with its architecture `config` (the object a
 * model's `config()` returns, or the kind's options) and an init seed. Loading a saved model is this call
 * followed by {@link loadParams}.
 */
export function createModel(
  kind: ModelKind,
  nUsers: number,
  nItems: number,
  config: Record<string, unknown> = {},
  seed = 42,
): RatingModel {
  switch (kind) {
    case 'dot':
      return new EmbeddingDot(nUsers, nItems, config as DotOptions, seed);
    case 'dotbias':
      return new EmbeddingDotBias(nUsers, nItems, config as DotBiasOptions, seed);
    case 'nn':
      return new EmbeddingNN(nUsers, nItems, config as EmbeddingNNOptions, seed);
    case 'hybrid':
      return new HybridModel(nUsers, nItems, config as HybridOptions, seed);
    case 'mf': {
      const clip = config.clip as (number | null)[] | undefined;
      const options = { ...(config as MFOptions) };
      if (clip) options.clip = [clip[0] ?? -Infinity, clip[1] ?? Infinity];
      return new BiasedMF(nUsers, nItems, options, seed);
    }
    default:
      throw new CollabError(
        'INVALID_OPTION',
        `model kind "${String(kind)}" is not available; use one of ${MODEL_KINDS.join(', ')}`,
        { field: 'model' },
      );
  }
}

/** One saved parameter table (what a model file holds per param). */
export interface ParamTable {
  name: string;
  rows: number;
  cols: number;
  data: Float32Array;
}

/** The model's learnable tables, in weights-file order (views, not copies). */
export function paramTables(model: RatingModel): ParamTable[] {
  return model.params.map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, data: p.value }));
}

/** Copies saved tables into a freshly built model, checking names and shapes. */
export function loadParams(model: RatingModel, tables: readonly ParamTable[]): void {
  if (tables.length !== model.params.length) {
    throw new CollabError(
      'BAD_MODEL',
      `model file has ${tables.length} tables but a ${model.kind} model needs ${model.params.length}; the file is damaged or from another version — retrain`,
    );
  }
  model.params.forEach((p, j) => {
    const t = tables[j]!;
    if (t.name !== p.name || t.rows !== p.rows || t.cols !== p.cols || t.data.length !== p.value.length) {
      throw new CollabError(
        'BAD_MODEL',
        `table ${j} is ${t.name} ${t.rows}x${t.cols} but the ${model.kind} model expects ${p.name} ${p.rows}x${p.cols}; the file is damaged or does not match its manifest — retrain`,
      );
    }
    p.value.set(t.data);
  });
}
