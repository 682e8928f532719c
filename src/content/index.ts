export { ContentModel, tfidfVectors, type ContentOptions } from '../models/content.js';
