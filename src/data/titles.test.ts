import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayTitle, foldSearchText, titleSearchKey } from './titles.js';

test('displayTitle puts a trailing article first, in alternate titles too, and keeps the year', () => {
  assert.equal(displayTitle('Matrix, The (1999)'), 'The Matrix (1999)');
  assert.equal(displayTitle('Amelie (Fabuleux destin d\'Amélie Poulain, Le) (2001)'), "Amelie (Le Fabuleux destin d'Amélie Poulain) (2001)");
  assert.equal(displayTitle('City of Lost Children, The (Cité des enfants perdus, La) (1995)'), 'The City of Lost Children (La Cité des enfants perdus) (1995)');
  assert.equal(displayTitle("Auberge espagnole, L' (2002)"), "L'Auberge espagnole (2002)");
  assert.equal(displayTitle('Misérables, Les (1995)'), 'Les Misérables (1995)');
  assert.equal(displayTitle('Babylon 5 (1994-1998)'), 'Babylon 5 (1994-1998)');
  assert.equal(displayTitle('Lion King, The'), 'The Lion King');
});

test('displayTitle leaves titles without a moved article alone', () => {
  for (const t of ['Toy Story (1995)', 'No Year', 'Three Billboards Outside Ebbing, Missouri (2017)', 'Hello, Dolly! (1969)', '']) assert.equal(displayTitle(t), t);
});

test('foldSearchText drops case, accents, apostrophes and punctuation', () => {
  assert.equal(foldSearchText("  Amélie: d'Amélie Poulain!! "), 'amelie damelie poulain');
  assert.equal(foldSearchText('Schindler’s List'), 'schindlers list');
  assert.equal(foldSearchText('WALL·E'), 'wall e');
});

test('titleSearchKey holds both orders, so "the matrix" and "matrix, the" both match', () => {
  assert.equal(titleSearchKey('Matrix, The (1999)'), 'matrix the 1999|the matrix 1999');
  assert.equal(titleSearchKey('Toy Story (1995)'), 'toy story 1995');
  assert.ok(titleSearchKey('Matrix, The (1999)').includes(foldSearchText('The Matrix')));
  assert.ok(titleSearchKey('Matrix, The (1999)').includes(foldSearchText('matrix, the')));
  assert.ok(titleSearchKey('Amélie (2001)').includes(foldSearchText('amelie')));
});
