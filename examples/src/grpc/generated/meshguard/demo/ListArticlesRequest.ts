// Original file: article.proto


/**
 * No filters: the catalogue is small.
 */
export interface ListArticlesRequest {
}

/**
 * No filters: the catalogue is small.
 */
export interface ListArticlesRequest__Output {
}
