import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fitEase } from '../models/ease.js';
import { checkerboard } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { saveEaseModel } from './ease-model.js';
import { manifestDigest, type ModelManifest } from './model-file.js';
import { saveTrainedModel } from './trained-model.js';
import { verifyModelFile } from './verify.js';

const dir = mkdtempSync(join(tmpdir(), 'collab-verify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CHECKSUM_MESSAGE =
  'manifest was edited or damaged: its contents (ids, kind, config, catalogue, ...) no longer match its manifestSha256; re-save or re-train the model rather than editing it';

async function savedRatingModel(name: string): Promise<string> {
  const { ratings, items } = checkerboard();
  const learner = collabLearner(ratings, undefined, { nFactors: 3, batchSize: 32, seed: 1 });
  await learner.fit(1, 1e-2);
  const path = join(dir, name);
  saveTrainedModel(path, { model: learner.model, train: ratings, items, history: { epochs: learner.history } });
  return path;
}

test('verifyModelFile returns the manifest of a sound rating model or EASE model', async () => {
  const path = await savedRatingModel('ok.json');
  assert.equal(verifyModelFile(path).kind, 'dotbias');
  const { ratings } = checkerboard();
  const ease = join(dir, 'ease.json');
  saveEaseModel(ease, { model: fitEase(ratings.users, ratings.items, ratings.userIds.size, ratings.itemIds.size, { lambda: 1 }), train: ratings, items: new Map() });
  assert.equal(verifyModelFile(ease).kind, 'ease');
});

test('verifyModelFile refuses an edited manifest', async () => {
  const path = await savedRatingModel('edited.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
  writeFileSync(path, JSON.stringify({ ...m, kind: 'dot' }));
  assert.throws(() => verifyModelFile(path), { code: 'BAD_MODEL', message: `${path}: ${CHECKSUM_MESSAGE}` });
});

test('verifyModelFile refuses shapes that disagree with the config, naming both', async () => {
  const path = await savedRatingModel('shape.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
  const edited = { ...m, config: { ...m.config, nFactors: 5 } };
  // re-signed, so the shape check (past the manifest checksum) is what is tested
  writeFileSync(path, JSON.stringify({ ...edited, manifestSha256: manifestDigest(edited) }));
  assert.throws(() => verifyModelFile(path), {
    code: 'BAD_MODEL',
    message: `${path}: table 0 is userFactors 40x3 but the dotbias model expects userFactors 40x5; the file is damaged or does not match its manifest — retrain`,
  });
});
