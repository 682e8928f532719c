export { ContentModel, tfidfVectors, type ContentOptions } from './content-model.js';
