/**
 * JSON schemas of every request and response: fastify validates requests with them (a 400 naming the
 * field), serialises responses with them, and @fastify/swagger publishes them as OpenAPI.
 */

/** Raw ids of this service are non-negative integers (MovieLens ids). */
const id = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** Path parameters `{ id }`. */
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { ...id, description: 'user or movie id (integer)' } },
} as const;

/** A rating value on the star scale. */
export function ratingSchema(range: [number, number]) {
  return { type: 'number', minimum: range[0], maximum: range[1], multipleOf: 0.5, description: `stars, ${range[0]} to ${range[1]} in steps of 0.5` } as const;
}

/** Query of GET /api/movies. */
export const movieQuery = {
  type: 'object',
  properties: {
    q: { type: 'string', maxLength: 200, description: 'title text: either article order, case, accents and punctuation ignored' },
    genre: { type: 'string', maxLength: 50, description: 'genre name, case-insensitive' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  },
} as const;

/** Query of the recommendation endpoints. */
export const recommendQuery = {
  type: 'object',
  properties: {
    n: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'number of movies' },
    genre: { type: 'string', maxLength: 50, description: 'only movies of this genre' },
    includeRated: { type: 'boolean', default: false, description: 'also recommend movies the user already rated (in the model\'s data, the database or the body)' },
  },
} as const;

/** Query of GET /api/movies/:id. */
export const similarQuery = {
  type: 'object',
  properties: { n: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'number of similar movies' } },
} as const;

/** Query of GET /api/map. */
export const mapQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 2, maximum: 5000, default: 500, description: 'most-rated movies to place' } },
} as const;

/** Body of POST /api/users/:id/ratings. */
export function rateBody(range: [number, number]) {
  return {
    type: 'object',
    required: ['movieId', 'rating'],
    additionalProperties: false,
    properties: { movieId: id, rating: ratingSchema(range) },
  } as const;
}

/** Body of POST /api/recommendations: the visitor's ratings. */
export function ratingsBody(range: [number, number]) {
  return {
    type: 'array',
    minItems: 1,
    maxItems: 500,
    items: rateBody(range),
    description: 'the visitor\'s ratings, each movie once',
  } as const;
}

/** The fields every movie in a response has, first and in this order. */
const movieFields = {
  movieId: id,
  title: { type: 'string' },
  displayTitle: { type: 'string', description: 'the title in natural order: "The Matrix (1999)" for "Matrix, The (1999)"' },
  genres: { type: 'array', items: { type: 'string' } },
  year: { type: 'integer' },
} as const;

const movie = {
  type: 'object',
  properties: {
    ...movieFields,
    ratingCount: { type: 'integer' },
    meanRating: { type: 'number' },
  },
} as const;

const scored = {
  type: 'object',
  properties: {
    ...movieFields,
    score: { type: 'number' },
    because: {
      type: 'array',
      items: {
        type: 'object',
        properties: { movieId: id, title: { type: 'string' }, displayTitle: { type: 'string' }, similarity: { type: 'number' }, rating: { type: 'number' } },
      },
    },
  },
} as const;

const errorFields = {
  error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } },
} as const;

/** An error response with what it means, for the OpenAPI document. */
function errorBody(description: string) {
  return { description, type: 'object', properties: errorFields } as const;
}

/** Error responses every API route may give. */
export const errors = {
  400: errorBody('BAD_REQUEST (a field is invalid; `field` names it), BAD_URL'),
  404: errorBody('UNKNOWN_ITEM, UNKNOWN_USER or NOT_FOUND'),
  413: errorBody('PAYLOAD_TOO_LARGE: the body is over the limit'),
  415: errorBody('UNSUPPORTED_MEDIA_TYPE: bodies must be application/json'),
  500: errorBody('INTERNAL: unexpected; the server log has the details'),
  503: errorBody('DATABASE_UNAVAILABLE (database down or not answering) or DATABASE_BUSY (write lock held elsewhere); retry after the Retry-After header\'s seconds'),
} as const;

/** Error responses of the endpoints that need the bearer token. */
export const authErrors = {
  401: errorBody('UNAUTHORIZED: no "Authorization: Bearer <token>" header'),
  403: errorBody('FORBIDDEN: the bearer token is wrong'),
} as const;

/** The 503 of GET /api/health: this replica cannot serve, and why. */
export const unavailableHealth = {
  description: 'this replica cannot serve now (database unreachable); retry after Retry-After seconds',
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['unavailable'] },
    model: { type: 'object', properties: { kind: { type: 'string' }, nUsers: { type: 'integer' }, nItems: { type: 'integer' } } },
    db: { type: 'object', properties: { kind: { type: 'string' }, ...errorFields } },
  },
} as const;

/** Response of GET /api/movies. */
export const movieList = {
  type: 'object',
  properties: { total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' }, movies: { type: 'array', items: movie } },
} as const;

/** Response of GET /api/movies/:id. */
export const movieDetails = {
  type: 'object',
  properties: { movie, similar: { type: 'array', items: scored } },
} as const;

/** Response of the recommendation endpoints. */
export const recommendations = {
  type: 'object',
  properties: {
    userId: id,
    method: { type: 'string', enum: ['model', 'fold-in'] },
    ratingsUsed: { type: 'integer' },
    items: { type: 'array', items: scored },
  },
} as const;

const storedRating = {
  type: 'object',
  properties: {
    userId: id,
    movieId: id,
    title: { type: 'string' },
    displayTitle: { type: 'string' },
    rating: { type: 'number' },
    ratedAt: { type: 'integer', description: 'unix milliseconds' },
    source: { type: 'string', enum: ['train', 'api'] },
  },
} as const;

/** Response of POST /api/users/:id/ratings. */
export const rated = { type: 'object', properties: { rating: storedRating } } as const;

/** Response of GET /api/users/:id/ratings. */
export const userRatings = {
  type: 'object',
  properties: { userId: id, ratings: { type: 'array', items: storedRating } },
} as const;

/** Response of GET /api/map. */
export const mapPoints = {
  type: 'object',
  properties: {
    points: {
      type: 'array',
      items: { type: 'object', properties: { movieId: id, title: { type: 'string' }, displayTitle: { type: 'string' }, x: { type: 'number' }, y: { type: 'number' }, ratingCount: { type: 'integer' } } },
    },
  },
} as const;
