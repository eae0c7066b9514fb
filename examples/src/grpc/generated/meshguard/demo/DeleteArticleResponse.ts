// Original file: article.proto


/**
 * Nothing: the article is gone.
 */
export interface DeleteArticleResponse {
}

/**
 * Nothing: the article is gone.
 */
export interface DeleteArticleResponse__Output {
}
