import { CollabError } from '../core/errors.js';
import type { ModelKind, RatingModel } from './model.js';
import { MODEL_KINDS, modelEntry } from './registry.js';

export { MODEL_KINDS };

/**
 * Builds a fresh model of `kind` for nUsers × nItems with its architecture `config` (the object a
 * model's `config()` returns, or the kind's options) and an init seed, through the model registry.
 * Loading a saved model is this call followed by {@link loadParams}.
 */
export function createModel(
  kind: ModelKind,
  nUsers: number,
  nItems: number,
  config: Record<string, unknown> = {},
  seed = 42,
): RatingModel {
  const entry = modelEntry(kind);
  return entry.create(nUsers, nItems, entry.parse(config), seed);
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
