/**
 * MovieLens titles put a leading article last ("Matrix, The (1999)", alternate titles too:
 * "City of Lost Children, The (Cité des enfants perdus, La) (1995)") so lists sort by the main word.
 * People type and read them in natural order, with or without accents: `displayTitle` gives the
 * natural order and `titleSearchKey` the text a search matches, so every store searches alike.
 */

// the articles MovieLens moves to the end (English, French, Spanish, Italian, German, Dutch/Scandinavian)
const ARTICLES = ['The', 'A', 'An', 'La', 'Le', 'Les', "L'", 'Il', 'Lo', 'Gli', 'I', 'El', 'Los', 'Las', 'Un', 'Une', 'Una', 'Der', 'Die', 'Das', 'De', 'Het', 'Den', 'Det'];
const TRAILING_ARTICLE = new RegExp(`^(.+), (${ARTICLES.join('|')})$`);
// the main title, then alternate titles in parentheses, then "(1999)" or "(1994-1998)"
const PARTS = /^(.*?)((?:\s*\([^()]*\))*?)(\s*\(\d{4}(?:[-–]\d{0,4})?\))?\s*$/;

function articleFirst(text: string): string {
  const m = TRAILING_ARTICLE.exec(text);
  if (!m) return text;
  const article = m[2]!;
  return article.endsWith("'") ? `${article}${m[1]}` : `${article} ${m[1]}`;
}

/** A MovieLens title in natural order: "Matrix, The (1999)" → "The Matrix (1999)"; other titles unchanged. */
export function displayTitle(title: string): string {
  const m = PARTS.exec(title);
  if (!m || m[1] === '') return title;
  const alternates = m[2]!.replace(/\(([^()]*)\)/g, (_, inner: string) => `(${/^a\.k\.a\. /i.test(inner) ? `a.k.a. ${articleFirst(inner.slice(7))}` : articleFirst(inner)})`);
  return `${articleFirst(m[1]!)}${alternates}${m[3] ?? ''}`;
}

/**
 * Text folded for loose matching: lower case, accents dropped ("Amélie" → "amelie"), apostrophes
 * removed ("Schindler's" → "schindlers"), every other run of punctuation or space one space.
 */
export function foldSearchText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * What a title search matches against: the folded title in MovieLens order and, when it differs, in
 * natural order, joined by "|" (which folded queries never contain, so a match never spans both).
 */
export function titleSearchKey(title: string): string {
  const stored = foldSearchText(title);
  const natural = foldSearchText(displayTitle(title));
  return natural === stored ? stored : `${stored}|${natural}`;
}
