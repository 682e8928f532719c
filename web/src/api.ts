/** Typed calls to the collab JSON API (same origin). */

export interface Movie {
  movieId: number;
  title: string;
  /** The title in natural order ("The Matrix (1999)"). */
  displayTitle?: string;
  genres: string[];
  year?: number;
  ratingCount: number;
  meanRating: number;
}

export interface Reason {
  movieId: number;
  title: string;
  displayTitle?: string;
  similarity: number;
  rating: number;
}

export interface Scored {
  movieId: number;
  title: string;
  displayTitle?: string;
  genres: string[];
  year?: number;
  score: number;
  because?: Reason[];
}

export interface Recommendations {
  method: 'model' | 'fold-in';
  ratingsUsed: number;
  items: Scored[];
}

export interface Given {
  movieId: number;
  rating: number;
}

export interface StoredRating extends Given {
  title?: string;
  displayTitle?: string;
  ratedAt: number;
  source: 'train' | 'api';
}

export interface MapPoint {
  movieId: number;
  title: string;
  displayTitle?: string;
  x: number;
  y: number;
  ratingCount: number;
}

export interface ModelInfo {
  kind: string;
  config: Record<string, unknown>;
  history: unknown;
  nUsers: number;
  nItems: number;
  /** The scale people rate on, e.g. [0.5, 5]. */
  ratingScale?: [number, number];
  /** The model's sigmoid output range, e.g. [0, 5.5]. */
  yRange?: [number, number];
}

/** An API error with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}), ...init?.headers } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

const qs = (params: Record<string, string | number | undefined>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

export const api = {
  movies: (q: string, genre: string, limit: number, offset = 0) =>
    call<{ total: number; movies: Movie[] }>(`/api/movies${qs({ q, genre, limit, offset })}`),
  movie: (id: number) => call<{ movie: Movie; similar: Scored[] }>(`/api/movies/${id}?n=12`),
  genres: () => call<{ genres: { genre: string; movies: number }[] }>('/api/genres'),
  recommendFor: (ratings: Given[], n: number, genre: string) =>
    call<Recommendations>(`/api/recommendations${qs({ n, genre })}`, { method: 'POST', body: JSON.stringify(ratings) }),
  userRecommendations: (userId: number, n: number, genre: string) => call<Recommendations>(`/api/users/${userId}/recommendations${qs({ n, genre })}`),
  userRatings: (userId: number) => call<{ ratings: StoredRating[] }>(`/api/users/${userId}/ratings`),
  rate: (userId: number, given: Given, token: string) =>
    call<{ rating: StoredRating }>(`/api/users/${userId}/ratings`, {
      method: 'POST',
      body: JSON.stringify(given),
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
  map: (limit: number) => call<{ points: MapPoint[] }>(`/api/map?limit=${limit}`),
  model: () => call<ModelInfo>('/api/model'),
};
