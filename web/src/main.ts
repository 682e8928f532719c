import { api, ApiError, type Given, type MapPoint, type Movie, type Recommendations, type Scored } from './api.js';
import './style.css';

/**
 * The collab page: search and rate movies, recommendations that follow your ratings, movie pages with
 * similar movies, a PCA map and the training curves. An anonymous visitor's ratings stay in
 * localStorage and are folded in by POST /api/recommendations; with a user id they are stored on the
 * server. Hash routes (#/, #/movie/1, #/map, #/model) keep everything on one static page.
 */

type Child = Node | string | number | null | undefined | false;

/** Creates an element; `on*` props become listeners, `class`/`data-*`/aria props attributes. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    else if (k === 'value') (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
/** Creates an SVG element with attributes. */
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

// ---- who is rating: an anonymous visitor (localStorage) or a user id (server) ----

interface Identity {
  userId?: number;
  token?: string;
}

const store = {
  identity(): Identity {
    try {
      return JSON.parse(localStorage.getItem('collab.identity') ?? '{}') as Identity;
    } catch {
      return {};
    }
  },
  setIdentity(id: Identity): void {
    localStorage.setItem('collab.identity', JSON.stringify(id));
  },
  anonymous(): Map<number, { rating: number; title: string }> {
    try {
      return new Map(JSON.parse(localStorage.getItem('collab.ratings') ?? '[]') as [number, { rating: number; title: string }][]);
    } catch {
      return new Map();
    }
  },
  setAnonymous(m: Map<number, { rating: number; title: string }>): void {
    localStorage.setItem('collab.ratings', JSON.stringify([...m]));
  },
};

/** The current visitor's ratings, movieId → rating and title. */
let myRatings = new Map<number, { rating: number; title: string }>();
let identity = store.identity();

async function loadMyRatings(): Promise<void> {
  if (identity.userId === undefined) {
    myRatings = store.anonymous();
    return;
  }
  const r = await api.userRatings(identity.userId);
  myRatings = new Map(r.ratings.map((x) => [x.movieId, { rating: x.rating, title: x.displayTitle ?? x.title ?? `#${x.movieId}` }]));
}

async function rate(movieId: number, title: string, rating: number | null): Promise<void> {
  if (identity.userId === undefined) {
    if (rating === null) myRatings.delete(movieId);
    else myRatings.set(movieId, { rating, title });
    store.setAnonymous(myRatings);
  } else if (rating !== null) {
    await api.rate(identity.userId, { movieId, rating }, identity.token ?? '');
    myRatings.set(movieId, { rating, title });
  }
  for (const el of document.querySelectorAll<HTMLElement>(`[data-stars="${movieId}"]`)) paintStars(el, rating ?? 0);
  renderMine();
  scheduleRecs();
}

// ---- small widgets ----

function paintStars(group: HTMLElement, value: number): void {
  group.querySelectorAll<HTMLButtonElement>('button.star').forEach((b) => {
    const v = Number(b.dataset.value);
    b.classList.toggle('on', v <= value);
    b.setAttribute('aria-pressed', String(v === value));
  });
}

/** Five star buttons; clicking the current value again clears an anonymous rating. */
function stars(movieId: number, title: string): HTMLElement {
  const current = myRatings.get(movieId)?.rating ?? 0;
  const group = h('div', { class: 'stars', role: 'group', 'aria-label': `Your rating of ${title}`, 'data-stars': movieId });
  for (let v = 1; v <= 5; v++) {
    group.append(
      h(
        'button',
        {
          type: 'button',
          class: 'star',
          'data-value': v,
          'aria-label': `Rate ${title} ${v} star${v > 1 ? 's' : ''}`,
          title: `${v} star${v > 1 ? 's' : ''}`,
          onclick: () => {
            const now = myRatings.get(movieId)?.rating;
            rate(movieId, title, now === v && identity.userId === undefined ? null : v).catch(showError);
          },
        },
        '★',
      ),
    );
  }
  paintStars(group, current);
  return group;
}

function meta(m: { year?: number; genres: string[] }): string {
  return [m.year, m.genres.slice(0, 3).join(' · ')].filter(Boolean).join(' — ');
}

/** The title in natural order ("The Matrix (1999)") when the API gives it, else as stored. */
function nice(m: { title: string; displayTitle?: string }): string {
  return m.displayTitle ?? m.title;
}

/** The title without its trailing "(1995)", which `meta` shows. */
function shortTitle(title: string): string {
  return title.replace(/\s*\(\d{4}\)\s*$/, '');
}

/** At most `max` characters, cut at a word with an ellipsis. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s:,-]+$/, '')}…`;
}

function movieCard(m: Movie): HTMLElement {
  return h(
    'li',
    { class: 'card movie', 'data-movie': m.movieId },
    h('div', { class: 'card-main' }, h('a', { class: 'title', href: `#/movie/${m.movieId}` }, shortTitle(nice(m))), h('div', { class: 'meta' }, meta(m))),
    h(
      'div',
      { class: 'card-side' },
      stars(m.movieId, nice(m)),
      m.ratingCount > 0 ? h('div', { class: 'avg', title: `${m.ratingCount} ratings` }, `${m.meanRating.toFixed(1)}★ avg · ${m.ratingCount}`) : null,
    ),
  );
}

function because(r: Scored): HTMLElement | null {
  if (!r.because || r.because.length === 0) return null;
  const links: Child[] = [];
  r.because.forEach((b, t) => {
    if (t > 0) links.push(t === r.because!.length - 1 ? ' and ' : ', ');
    links.push(h('a', { href: `#/movie/${b.movieId}` }, shortTitle(nice(b))));
  });
  return h('div', { class: 'because' }, 'Because you liked ', ...links);
}

function recItem(r: Scored, rank: number): HTMLElement {
  return h(
    'li',
    { class: 'rec', 'data-testid': 'rec-item', 'data-movie': r.movieId },
    h('span', { class: 'rank' }, rank),
    h(
      'div',
      { class: 'rec-body' },
      h('a', { class: 'title', href: `#/movie/${r.movieId}` }, shortTitle(nice(r))),
      h('div', { class: 'meta' }, meta(r)),
      because(r),
    ),
    h(
      'div',
      { class: 'rec-side' },
      h('span', { class: 'score', title: 'the rating the model predicts you would give' }, h('span', { class: 'score-word' }, 'predicted '), `${Math.min(r.score, 5).toFixed(1)}★`),
      stars(r.movieId, nice(r)),
    ),
  );
}

function showError(err: unknown): void {
  const msg = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  const box = h('div', { class: 'toast', role: 'alert' }, msg);
  document.body.append(box);
  setTimeout(() => box.remove(), 5000);
}

// ---- the home view: search, recommendations, your ratings ----

let recTimer: number | undefined;
let recGenre = '';
let recSeq = 0;

function scheduleRecs(): void {
  clearTimeout(recTimer);
  recTimer = window.setTimeout(() => void renderRecs(), 120);
}

async function renderRecs(): Promise<void> {
  const box = document.getElementById('recs');
  if (!box) return;
  const seq = ++recSeq;
  let recs: Recommendations | undefined;
  try {
    if (identity.userId !== undefined) recs = await api.userRecommendations(identity.userId, 10, recGenre);
    else if (myRatings.size > 0) recs = await api.recommendFor([...myRatings].map(([movieId, r]): Given => ({ movieId, rating: r.rating })), 10, recGenre);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'UNKNOWN_USER')) showError(err);
  }
  if (seq !== recSeq) return;
  const list = h('ol', { class: 'recs', 'data-testid': 'recs' });
  if (!recs || recs.items.length === 0) {
    box.replaceChildren(h('p', { class: 'empty' }, recs ? 'Nothing left to recommend with this filter.' : 'Rate a few movies you know — recommendations appear here and change with every star.'));
    return;
  }
  recs.items.forEach((r, t) => list.append(recItem(r, t + 1)));
  const how = recs.method === 'model' ? 'from your trained profile' : `from your ${recs.ratingsUsed} rating${recs.ratingsUsed === 1 ? '' : 's'}`;
  box.replaceChildren(h('p', { class: 'how' }, `Picked ${how}`), list);
}

/** Rating chips shown before "Show all": a heavy rater's list would otherwise fill several screens. */
const MINE_SHOWN = 8;
let mineExpanded = false;

function renderMine(): void {
  const box = document.getElementById('mine');
  if (!box) return;
  const n = myRatings.size;
  // newest first: an anonymous visitor's map keeps rating order, a user's list comes newest first
  const all = identity.userId === undefined ? [...myRatings].reverse() : [...myRatings];
  const shown = mineExpanded ? all : all.slice(0, MINE_SHOWN);
  const toggle =
    n > MINE_SHOWN
      ? h(
          'button',
          {
            type: 'button',
            class: 'more',
            'aria-expanded': String(mineExpanded),
            'data-testid': 'mine-toggle',
            onclick: () => {
              mineExpanded = !mineExpanded;
              renderMine();
            },
          },
          mineExpanded ? 'Show the latest only' : `Show all ${n}`,
        )
      : null;
  box.replaceChildren(
    h('h2', {}, 'Your ratings ', h('span', { class: 'count', 'data-testid': 'rated-count' }, n)),
    n === 0
      ? h('p', { class: 'empty' }, 'None yet.')
      : h(
          'ul',
          { class: 'chips', 'data-testid': 'mine' },
          ...shown.map(([id, r]) => h('li', { class: 'chip' }, h('a', { href: `#/movie/${id}` }, shortTitle(r.title)), h('span', { class: 'chip-stars', 'aria-label': `${r.rating} stars` }, '★'.repeat(Math.round(r.rating))))),
        ),
    n > MINE_SHOWN && !mineExpanded ? h('p', { class: 'how' }, `The latest ${MINE_SHOWN} of ${n}.`) : '',
    toggle ?? '',
  );
}

let searchSeq = 0;
async function runSearch(q: string, genre: string, offset = 0): Promise<void> {
  const seq = ++searchSeq;
  const results = document.getElementById('results');
  if (!results) return;
  // a phone shows fewer rows so the recommendations below stay within reach
  const found = await api.movies(q, genre, window.matchMedia('(max-width: 900px)').matches ? 6 : 12, offset);
  if (seq !== searchSeq) return;
  const list = offset === 0 ? h('ul', { class: 'cards', 'data-testid': 'results' }) : (results.querySelector('ul.cards') as HTMLElement);
  for (const m of found.movies) list.append(movieCard(m));
  const shown = offset + found.movies.length;
  const more = shown < found.total ? h('button', { type: 'button', class: 'more', onclick: () => void runSearch(q, genre, shown).catch(showError) }, `Show more (${found.total - shown} left)`) : null;
  const head = h('p', { class: 'how' }, q || genre ? `${found.total} movie${found.total === 1 ? '' : 's'} found` : 'Most rated movies');
  if (offset === 0) results.replaceChildren(head, found.total === 0 ? h('p', { class: 'empty' }, 'No movie matches.') : list, more ?? '');
  else {
    results.querySelector('button.more')?.remove();
    if (more) results.append(more);
  }
}

async function homeView(root: HTMLElement): Promise<void> {
  const genres = await api.genres().catch(() => ({ genres: [] }));
  const input = h('input', { type: 'search', id: 'search', name: 'q', placeholder: window.matchMedia('(max-width: 600px)').matches ? 'Search movies' : 'Search movies, e.g. Toy Story', autocomplete: 'off', 'aria-label': 'Search movies', 'data-testid': 'search' });
  const select = h('select', { 'aria-label': 'Genre', id: 'genre' }, h('option', { value: '' }, 'All genres'), ...genres.genres.map((g) => h('option', { value: g.genre }, g.genre)));
  let timer: number | undefined;
  const go = () => void runSearch(input.value.trim(), select.value).catch(showError);
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(go, 200);
  });
  select.addEventListener('change', go);
  const recSelect = h('select', { 'aria-label': 'Recommend genre', class: 'small' }, h('option', { value: '' }, 'Any genre'), ...genres.genres.map((g) => h('option', { value: g.genre }, g.genre)));
  recSelect.value = recGenre;
  recSelect.addEventListener('change', () => {
    recGenre = recSelect.value;
    scheduleRecs();
  });
  root.replaceChildren(
    h(
      'div',
      { class: 'home' },
      h(
        'section',
        { class: 'panel browse' },
        h('h1', {}, 'Find movies you know'),
        h('form', { class: 'search', role: 'search', onsubmit: (e: Event) => (e.preventDefault(), go()) }, input, select),
        h('div', { id: 'results' }),
      ),
      h(
        'aside',
        { class: 'side' },
        h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Recommended for you'), recSelect), h('div', { id: 'recs' })),
        h('section', { class: 'panel', id: 'mine' }),
      ),
    ),
  );
  renderMine();
  go();
  await renderRecs();
}

// ---- the movie view ----

async function movieView(root: HTMLElement, id: number): Promise<void> {
  const { movie, similar } = await api.movie(id);
  root.replaceChildren(
    h(
      'article',
      { class: 'panel moviepage' },
      h('a', { href: '#/', class: 'back' }, '← Discover'),
      h('h1', {}, nice(movie)),
      h('p', { class: 'meta big' }, movie.genres.join(' · ')),
      h(
        'div',
        { class: 'facts' },
        h('div', {}, h('strong', {}, movie.ratingCount > 0 ? `${movie.meanRating.toFixed(2)}★` : '—'), h('span', {}, 'mean rating')),
        h('div', {}, h('strong', {}, movie.ratingCount), h('span', {}, 'ratings')),
        h('div', { class: 'rate-here' }, stars(movie.movieId, nice(movie)), h('span', {}, 'your rating')),
      ),
      h('h2', {}, 'Similar movies'),
      h('p', { class: 'how' }, 'Closest by the cosine of the learned movie embeddings.'),
      h(
        'ul',
        { class: 'cards similar' },
        ...similar.map((m) =>
          h(
            'li',
            { class: 'card movie' },
            h('div', { class: 'card-main' }, h('a', { class: 'title', href: `#/movie/${m.movieId}` }, shortTitle(nice(m))), h('div', { class: 'meta' }, meta(m))),
            h('div', { class: 'card-side' }, h('span', { class: 'sim', title: 'cosine similarity' }, m.score.toFixed(2)), stars(m.movieId, nice(m))),
          ),
        ),
      ),
    ),
  );
}

// ---- the map view ----

async function mapView(root: HTMLElement): Promise<void> {
  // a phone gets a narrower drawing with fewer movies, so text and dots keep a readable size
  const narrow = window.innerWidth < 640;
  const { points } = await api.map(narrow ? 150 : 400);
  const W = narrow ? 400 : 1000;
  const H = narrow ? 520 : 640;
  const pad = narrow ? 22 : 44;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (y: number) => H - pad - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const maxCount = Math.max(1, ...points.map((p) => p.ratingCount));
  const radius = (p: MapPoint) => (narrow ? 2.5 + 6 * Math.sqrt(p.ratingCount / maxCount) : 3 + 9 * Math.sqrt(p.ratingCount / maxCount));
  const byCount = [...points].sort((a, b) => b.ratingCount - a.ratingCount);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: narrow ? 'map narrow' : 'map', role: 'img', 'aria-label': 'Map of movies: the first two principal components of the movie embeddings' });
  const label = s('text', { class: 'map-label', x: 0, y: 0 });
  const labelBg = s('rect', { class: 'map-label-bg', rx: 4 });
  const show = (p: MapPoint | null) => {
    // the landmark names step back while a title is shown
    svg.classList.toggle('hovering', p !== null);
    if (!p) {
      label.textContent = '';
      labelBg.setAttribute('width', '0');
      return;
    }
    label.textContent = shortTitle(nice(p));
    const x = sx(p.x);
    const y = sy(p.y) - radius(p) - 8;
    const anchor = x > W * 0.7 ? 'end' : x < W * 0.3 ? 'start' : 'middle';
    label.setAttribute('x', String(x));
    label.setAttribute('y', String(Math.max(y, 20)));
    label.setAttribute('text-anchor', anchor);
    const bb = label.getBBox();
    labelBg.setAttribute('x', String(bb.x - 6));
    labelBg.setAttribute('y', String(bb.y - 3));
    labelBg.setAttribute('width', String(bb.width + 12));
    labelBg.setAttribute('height', String(bb.height + 6));
  };
  // a tap or click selects a movie: its name on the map and a card below with a link to open it
  const selected = h('div', { class: 'map-selected', 'data-testid': 'map-selected', 'aria-live': 'polite' }, h('p', { class: 'how' }, narrow ? 'Tap a dot to see its title.' : 'Hover or click a dot to see its title.'));
  let chosen: MapPoint | null = null;
  const dotOf = new Map<number, SVGCircleElement>();
  const select = (p: MapPoint) => {
    if (chosen) dotOf.get(chosen.movieId)?.classList.remove('chosen');
    chosen = p;
    dotOf.get(p.movieId)?.classList.add('chosen');
    show(p);
    selected.replaceChildren(
      h('a', { class: 'title', href: `#/movie/${p.movieId}` }, nice(p)),
      h('span', { class: 'meta' }, ` · ${p.ratingCount} ratings`),
      ' ',
      h('a', { class: 'open', href: `#/movie/${p.movieId}` }, 'Open →'),
    );
  };
  const dots = s('g');
  // biggest first so small dots stay clickable on top
  for (const p of byCount) {
    const dot = s('circle', { cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: radius(p).toFixed(1), class: myRatings.has(p.movieId) ? 'dot rated' : 'dot', tabindex: 0, 'data-movie': p.movieId }, s('title', {}, nice(p)));
    dotOf.set(p.movieId, dot);
    dot.addEventListener('mouseenter', () => show(p));
    dot.addEventListener('focus', () => show(p));
    dot.addEventListener('mouseleave', () => show(chosen));
    dot.addEventListener('blur', () => show(chosen));
    dot.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') location.hash = `#/movie/${p.movieId}`;
    });
    dots.append(dot);
  }
  // a finger is wider than a dot: a tap picks the nearest dot within reach
  svg.addEventListener('click', (e) => {
    const m = svg.getScreenCTM();
    if (!m) return;
    const at = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    let best: MapPoint | null = null;
    let bestD = (narrow ? 26 : 16) ** 2;
    for (const p of points) {
      const d = (sx(p.x) - at.x) ** 2 + (sy(p.y) - at.y) ** 2;
      if (d < bestD) [best, bestD] = [p, d];
    }
    if (best) select(best);
  });
  // the best-known titles stay labelled so the map has landmarks
  const names = s('g');
  // greedily, most-rated first: a name whose box (estimated from its length) would cover one already
  // placed is skipped
  const placed: [number, number, number, number][] = [];
  const charW = narrow ? 8.3 : 6.8;
  for (const p of byCount.slice(0, narrow ? 5 : 12)) {
    const x = sx(p.x);
    const y = sy(p.y) + radius(p) + (narrow ? 15 : 13);
    const text = clip(shortTitle(nice(p)), narrow ? 22 : 30);
    const anchor = x > W * 0.8 ? 'end' : x < W * 0.2 ? 'start' : 'middle';
    const w = text.length * charW;
    const left = anchor === 'start' ? x : anchor === 'end' ? x - w : x - w / 2;
    const box: [number, number, number, number] = [left - 3, y - (narrow ? 14 : 11), left + w + 3, y + 3];
    if (placed.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) continue;
    placed.push(box);
    names.append(s('text', { class: 'map-name', x: x.toFixed(1), y: y.toFixed(1), 'text-anchor': anchor }, text));
  }
  const axes = [s('text', { class: 'map-axis', x: W - 12, y: H - 8, 'text-anchor': 'end' }, 'first component →'), s('text', { class: 'map-axis', x: 10, y: 16 }, '↑ second component')];
  // names over the dots (with a halo), so a crowded map cannot hide its landmarks
  svg.append(s('rect', { class: 'map-bg', x: 0, y: 0, width: W, height: H, rx: 12 }), ...axes, dots, names, labelBg, label);
  // every movie as a list too: for screen readers, and for anyone who would rather read than aim
  const list = h(
    'details',
    { class: 'maplist' },
    h('summary', {}, `All ${points.length} movies on the map, as a list`),
    h('ol', {}, ...byCount.map((p) => h('li', {}, h('a', { href: `#/movie/${p.movieId}` }, nice(p)), h('span', { class: 'meta' }, ` · ${p.ratingCount} ratings`)))),
  );
  root.replaceChildren(
    h(
      'section',
      { class: 'panel' },
      h('h1', {}, 'Map of movies'),
      h('p', { class: 'how' }, `The ${points.length} most-rated movies placed by the first two principal components of their embeddings: neighbours were liked by the same people. ${narrow ? 'Tap' : 'Hover or click'} a dot for its title; your rated movies are highlighted.`),
      svg,
      selected,
      list,
    ),
  );
}

// ---- the model view: kind, hyperparameters, training curves ----

/** A training history as the page draws it: one record per epoch and every minibatch's loss. */
interface Curves {
  epochs: { label: string; trainLoss?: number; validMse?: number }[];
  batchLosses: number[];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Reads a model's history: `{ epochs: [{ epoch, trainLoss, validMse }], batchLosses: [...] }` as
 * collab saves it, or per-epoch arrays (`trainLoss: [...]`, `validLoss: [...]`) from other writers.
 */
function trainingCurves(history: unknown): Curves {
  const out: Curves = { epochs: [], batchLosses: [] };
  if (history === null || typeof history !== 'object') return out;
  const h = history as Record<string, unknown>;
  if (Array.isArray(h.batchLosses)) out.batchLosses = h.batchLosses.filter(finite);
  if (Array.isArray(h.epochs) && h.epochs.every((r) => r !== null && typeof r === 'object')) {
    out.epochs = (h.epochs as Record<string, unknown>[]).map((r, e) => {
      const valid = r.validMse ?? r.validLoss ?? r.valid_loss;
      const train = r.trainLoss ?? r.train_loss;
      return { label: String(r.epoch ?? e), ...(finite(train) ? { trainLoss: train } : {}), ...(finite(valid) ? { validMse: valid } : {}) };
    });
  } else {
    const train = Array.isArray(h.trainLoss) ? h.trainLoss : [];
    const valid = Array.isArray(h.validMse) ? h.validMse : Array.isArray(h.validLoss) ? h.validLoss : [];
    const names = Array.isArray(h.epochs) ? h.epochs : [];
    const n = Math.max(train.length, valid.length);
    for (let e = 0; e < n; e++) {
      out.epochs.push({ label: String(names[e] ?? e), ...(finite(train[e]) ? { trainLoss: train[e] } : {}), ...(finite(valid[e]) ? { validMse: valid[e] } : {}) });
    }
  }
  return out;
}

/** fastai's smoothing of the batch losses: an exponential moving average (β = 0.98), debiased. */
function smoothed(values: number[], beta = 0.98): number[] {
  let avg = 0;
  return values.map((v, t) => {
    avg = beta * avg + (1 - beta) * v;
    return avg / (1 - beta ** (t + 1));
  });
}

/** The series of the curves chart, with the words of its legend. */
const CURVE_NAMES = { batch: 'train loss (per batch, smoothed)', train: 'train loss', valid: 'valid MSE' } as const;

/**
 * Loss against epochs, numbered as the epoch table numbers them: epoch k's batches fill [k, k + 1)
 * and its train loss and validation MSE sit in the middle; the y axis fits the drawn values.
 */
function curves(c: Curves): SVGSVGElement {
  const W = 720;
  const H = 340;
  const L = 54;
  const R = 16;
  const T = 16;
  const B = 42;
  const nEpochs = c.epochs.length;
  // no epoch records: the batches alone, one unit per batch
  const span = nEpochs > 0 ? nEpochs : Math.max(1, c.batchLosses.length);
  const batch = smoothed(c.batchLosses);
  const step = Math.max(1, Math.floor(batch.length / 360));
  const batchPts: [number, number][] = [];
  for (let b = 0; b < batch.length; b += step) batchPts.push([((b + 1) / batch.length) * span, batch[b]!]);
  if (batch.length > 0 && (batch.length - 1) % step !== 0) batchPts.push([span, batch[batch.length - 1]!]);
  const trainPts: [number, number][] = [];
  const validPts: [number, number][] = [];
  c.epochs.forEach((r, e) => {
    if (r.trainLoss !== undefined) trainPts.push([e + 0.5, r.trainLoss]);
    if (r.validMse !== undefined) validPts.push([e + 0.5, r.validMse]);
  });
  const all = [...batchPts, ...trainPts, ...validPts].map((p) => p[1]);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const m = (hi - lo) * 0.08;
  // losses are never negative: the axis starts at 0 at the lowest, else just under the lowest value
  lo = Math.max(0, lo - m);
  hi += m;
  const sx = (x: number) => L + (x / span) * (W - L - R);
  const sy = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'curves', role: 'img', 'aria-label': 'Training curves: loss per epoch' });
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    svg.append(s('line', { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: 'grid' }), s('text', { x: L - 8, y: sy(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(2)));
  }
  if (nEpochs > 0) {
    const every = Math.max(1, Math.ceil(nEpochs / 12));
    for (let e = 0; e < nEpochs; e += every) svg.append(s('text', { x: sx(e + 0.5), y: H - B + 18, 'text-anchor': 'middle', class: 'tick' }, c.epochs[e]!.label));
  }
  svg.append(s('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, nEpochs > 0 ? 'epoch' : 'batch'));
  const path = (pts: [number, number][]) => pts.map(([x, v], t) => `${t === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(v).toFixed(1)}`).join('');
  if (batchPts.length > 1) svg.append(s('path', { d: path(batchPts), class: 'line thin cb', 'data-series': CURVE_NAMES.batch }));
  for (const [pts, cls, name] of [
    [trainPts, 'c0', CURVE_NAMES.train],
    [validPts, 'c1', CURVE_NAMES.valid],
  ] as const) {
    if (pts.length === 0) continue;
    svg.append(s('path', { d: path(pts), class: `line ${cls}`, 'data-series': name }));
    pts.forEach(([x, v], e) => svg.append(s('circle', { cx: sx(x), cy: sy(v), r: 3.5, class: `pt ${cls}` }, s('title', {}, `${name}, epoch ${c.epochs[e]?.label ?? e}: ${v.toFixed(4)}`))));
  }
  return svg;
}

async function modelView(root: HTMLElement): Promise<void> {
  const info = await api.model();
  const c = trainingCurves(info.history);
  const has = { batch: c.batchLosses.length > 1, train: c.epochs.some((r) => r.trainLoss !== undefined), valid: c.epochs.some((r) => r.validMse !== undefined) };
  const empty = !has.batch && !has.train && !has.valid;
  const config = Object.entries(info.config).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v) || Array.isArray(v));
  const scale = info.ratingScale ?? info.yRange;
  root.replaceChildren(
    h(
      'section',
      { class: 'panel' },
      h('h1', {}, 'The model'),
      h(
        'div',
        { class: 'facts' },
        h('div', {}, h('strong', {}, info.kind), h('span', {}, 'kind')),
        h('div', {}, h('strong', {}, info.nUsers.toLocaleString()), h('span', {}, 'users')),
        h('div', {}, h('strong', {}, info.nItems.toLocaleString()), h('span', {}, 'movies')),
        scale ? h('div', { 'data-testid': 'rating-scale', title: info.yRange ? `the model's sigmoid spans ${info.yRange.join(' – ')}` : '' }, h('strong', {}, `${scale[0]} – ${scale[1]}`), h('span', {}, 'rating scale')) : null,
      ),
      h('h2', {}, 'Training curves'),
      empty
        ? h('p', { class: 'empty' }, 'This model has no training history.')
        : h(
            'div',
            { class: 'legend', 'data-testid': 'curve-legend' },
            has.batch ? h('span', { class: 'key thin cb' }, CURVE_NAMES.batch) : null,
            has.train ? h('span', { class: 'key c0' }, CURVE_NAMES.train) : null,
            has.valid ? h('span', { class: 'key c1' }, CURVE_NAMES.valid) : null,
          ),
      empty ? null : curves(c),
      h('h2', {}, 'Hyperparameters'),
      h('table', { class: 'config' }, h('tbody', {}, ...config.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, Array.isArray(v) ? JSON.stringify(v) : String(v)))))),
    ),
  );
}

// ---- identity box and router ----

/** Whether the anonymous visitor opened the "sign in as a user" form. */
let whoOpen = false;

function renderWho(): void {
  const box = document.getElementById('who')!;
  if (identity.userId !== undefined) {
    box.replaceChildren(
      h('span', { class: 'badge' }, `User ${identity.userId}`),
      h('button', { type: 'button', class: 'link', onclick: () => void switchIdentity({}) }, 'sign out'),
    );
    return;
  }
  // an anonymous visitor sees one control; the id and token boxes only when they ask for them
  if (!whoOpen) {
    box.replaceChildren(
      h('span', { class: 'anon', title: 'Your ratings are kept in this browser only' }, 'Rating anonymously'),
      h(
        'button',
        {
          type: 'button',
          class: 'signin',
          'aria-expanded': 'false',
          onclick: () => {
            whoOpen = true;
            renderWho();
            box.querySelector<HTMLInputElement>('input')?.focus();
          },
        },
        'Sign in as a user',
      ),
    );
    return;
  }
  const idInput = h('input', { type: 'text', inputmode: 'numeric', pattern: '[0-9]+', placeholder: 'User id', 'aria-label': 'User id', size: 7 });
  const tokenInput = h('input', { type: 'password', placeholder: 'Token', 'aria-label': 'Token', title: 'Only needed when the server was started with a token', size: 10 });
  box.replaceChildren(
    h(
      'form',
      {
        class: 'whoform',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const id = Number(idInput.value);
          if (Number.isInteger(id) && id >= 0 && idInput.value.trim() !== '') {
            whoOpen = false;
            void switchIdentity({ userId: id, ...(tokenInput.value ? { token: tokenInput.value } : {}) });
          }
        },
      },
      idInput,
      tokenInput,
      h('button', { type: 'submit' }, 'Sign in'),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            whoOpen = false;
            renderWho();
          },
        },
        'cancel',
      ),
    ),
  );
}

async function switchIdentity(next: Identity): Promise<void> {
  identity = next;
  store.setIdentity(next);
  renderWho();
  await loadMyRatings().catch(showError);
  await route();
}

async function route(): Promise<void> {
  const root = document.getElementById('app')!;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [, page, arg] = hash.split('/');
  document.querySelectorAll<HTMLAnchorElement>('nav a').forEach((a) => a.classList.toggle('active', a.dataset.nav === (page || 'home') || (a.dataset.nav === 'home' && page === 'movie')));
  try {
    if (page === 'movie' && arg && /^\d+$/.test(arg)) await movieView(root, Number(arg));
    else if (page === 'map') await mapView(root);
    else if (page === 'model') await modelView(root);
    else await homeView(root);
    if (page !== '' && page !== undefined) window.scrollTo(0, 0);
  } catch (err) {
    root.replaceChildren(h('section', { class: 'panel' }, h('h1', {}, 'Something went wrong'), h('p', {}, err instanceof Error ? err.message : String(err)), h('a', { href: '#/' }, '← Discover')));
  }
}

window.addEventListener('hashchange', () => void route());
renderWho();
await loadMyRatings().catch(showError);
await route();
