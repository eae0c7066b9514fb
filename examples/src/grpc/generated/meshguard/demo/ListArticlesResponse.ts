// Original file: article.proto

import type { Article as _meshguard_demo_Article, Article__Output as _meshguard_demo_Article__Output } from '../../meshguard/demo/Article.js';

/**
 * The articles, in id order.
 */
export interface ListArticlesResponse {
  'articles'?: (_meshguard_demo_Article)[];
}

/**
 * The articles, in id order.
 */
export interface ListArticlesResponse__Output {
  'articles': (_meshguard_demo_Article__Output)[];
}
