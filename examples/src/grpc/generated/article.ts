import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Article as _meshguard_demo_Article, Article__Output as _meshguard_demo_Article__Output } from './meshguard/demo/Article.js';
import type { ArticleServiceClient as _meshguard_demo_ArticleServiceClient, ArticleServiceDefinition as _meshguard_demo_ArticleServiceDefinition } from './meshguard/demo/ArticleService.js';
import type { CreateArticleRequest as _meshguard_demo_CreateArticleRequest, CreateArticleRequest__Output as _meshguard_demo_CreateArticleRequest__Output } from './meshguard/demo/CreateArticleRequest.js';
import type { DeleteArticleRequest as _meshguard_demo_DeleteArticleRequest, DeleteArticleRequest__Output as _meshguard_demo_DeleteArticleRequest__Output } from './meshguard/demo/DeleteArticleRequest.js';
import type { DeleteArticleResponse as _meshguard_demo_DeleteArticleResponse, DeleteArticleResponse__Output as _meshguard_demo_DeleteArticleResponse__Output } from './meshguard/demo/DeleteArticleResponse.js';
import type { GetArticleRequest as _meshguard_demo_GetArticleRequest, GetArticleRequest__Output as _meshguard_demo_GetArticleRequest__Output } from './meshguard/demo/GetArticleRequest.js';
import type { ListArticlesRequest as _meshguard_demo_ListArticlesRequest, ListArticlesRequest__Output as _meshguard_demo_ListArticlesRequest__Output } from './meshguard/demo/ListArticlesRequest.js';
import type { ListArticlesResponse as _meshguard_demo_ListArticlesResponse, ListArticlesResponse__Output as _meshguard_demo_ListArticlesResponse__Output } from './meshguard/demo/ListArticlesResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  meshguard: {
    demo: {
      Article: MessageTypeDefinition<_meshguard_demo_Article, _meshguard_demo_Article__Output>
      /**
       * A catalogue of articles held in memory.
       */
      ArticleService: SubtypeConstructor<typeof grpc.Client, _meshguard_demo_ArticleServiceClient> & { service: _meshguard_demo_ArticleServiceDefinition }
      CreateArticleRequest: MessageTypeDefinition<_meshguard_demo_CreateArticleRequest, _meshguard_demo_CreateArticleRequest__Output>
      DeleteArticleRequest: MessageTypeDefinition<_meshguard_demo_DeleteArticleRequest, _meshguard_demo_DeleteArticleRequest__Output>
      DeleteArticleResponse: MessageTypeDefinition<_meshguard_demo_DeleteArticleResponse, _meshguard_demo_DeleteArticleResponse__Output>
      GetArticleRequest: MessageTypeDefinition<_meshguard_demo_GetArticleRequest, _meshguard_demo_GetArticleRequest__Output>
      ListArticlesRequest: MessageTypeDefinition<_meshguard_demo_ListArticlesRequest, _meshguard_demo_ListArticlesRequest__Output>
      ListArticlesResponse: MessageTypeDefinition<_meshguard_demo_ListArticlesResponse, _meshguard_demo_ListArticlesResponse__Output>
    }
  }
}

