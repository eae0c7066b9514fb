// Original file: article.proto


/**
 * Which article to get.
 */
export interface GetArticleRequest {
  'id'?: (number);
}

/**
 * Which article to get.
 */
export interface GetArticleRequest__Output {
  'id': (number);
}
