import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js'
import type { Article } from './generated/meshguard/demo/Article.js'
import type { ArticleServiceHandlers } from './generated/meshguard/demo/ArticleService.js'
import type { CreateArticleRequest__Output } from './generated/meshguard/demo/CreateArticleRequest.js'
import type { DeleteArticleRequest__Output } from './generated/meshguard/demo/DeleteArticleRequest.js'
import type { DeleteArticleResponse } from './generated/meshguard/demo/DeleteArticleResponse.js'
import type { GetArticleRequest__Output } from './generated/meshguard/demo/GetArticleRequest.js'
import type { ListArticlesRequest__Output } from './generated/meshguard/demo/ListArticlesRequest.js'
import type { ListArticlesResponse } from './generated/meshguard/demo/ListArticlesResponse.js'
import { checkPricedItem } from './check-priced-item.js'

/** An article as the service keeps it: the price in cents, as the decimal string int64 fields are loaded as. */
export interface StoredArticle {
  readonly id: number
  readonly description: string
  readonly price: string
}

/** What the catalogue starts with. */
export const demoArticles: ReadonlyArray<Omit<StoredArticle, 'id'>> = [
  { description: 'Temperature and humidity sensor (DHT22)', price: '990' },
  { description: 'Ultrasonic distance sensor (HC-SR04)', price: '450' },
]

/**
 * `ArticleService`: a catalogue in memory, starting with `initial`. Ids are assigned in order and
 * never reused. Authorisation happens before a handler runs, in the service kit's interceptor.
 *
 * @example
 * server.addService(ArticleService.service, articleService())
 */
export function articleService(initial: ReadonlyArray<Omit<StoredArticle, 'id'>> = demoArticles): ArticleServiceHandlers {
  const articles = new Map<number, StoredArticle>()
  let lastId = 0
  const add = (description: string, price: string): StoredArticle => {
    const article = { id: ++lastId, description, price }
    articles.set(article.id, article)
    return article
  }
  for (const { description, price } of initial) add(description, price)

  return {
    Create(call: ServerUnaryCall<CreateArticleRequest__Output, Article>, callback: sendUnaryData<Article>) {
      const problem = checkPricedItem(call.request, 'article')
      if (problem !== undefined) callback({ code: status.INVALID_ARGUMENT, details: problem })
      else callback(null, add(call.request.description.trim(), call.request.price))
    },

    Get(call: ServerUnaryCall<GetArticleRequest__Output, Article>, callback: sendUnaryData<Article>) {
      const article = articles.get(call.request.id)
      if (article === undefined) callback(notFound(call.request.id))
      else callback(null, article)
    },

    List(_call: ServerUnaryCall<ListArticlesRequest__Output, ListArticlesResponse>, callback: sendUnaryData<ListArticlesResponse>) {
      callback(null, { articles: [...articles.values()] })
    },

    Delete(call: ServerUnaryCall<DeleteArticleRequest__Output, DeleteArticleResponse>, callback: sendUnaryData<DeleteArticleResponse>) {
      if (articles.delete(call.request.id)) callback(null, {})
      else callback(notFound(call.request.id))
    },
  }
}

function notFound(id: number) {
  return { code: status.NOT_FOUND, details: `no article ${id}` }
}
