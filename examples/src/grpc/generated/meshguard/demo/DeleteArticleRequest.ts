// Original file: article.proto


/**
 * Which article to remove.
 */
export interface DeleteArticleRequest {
  'id'?: (number);
}

/**
 * Which article to remove.
 */
export interface DeleteArticleRequest__Output {
  'id': (number);
}
