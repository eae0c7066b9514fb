// Original file: article.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Article as _meshguard_demo_Article, Article__Output as _meshguard_demo_Article__Output } from '../../meshguard/demo/Article.js';
import type { CreateArticleRequest as _meshguard_demo_CreateArticleRequest, CreateArticleRequest__Output as _meshguard_demo_CreateArticleRequest__Output } from '../../meshguard/demo/CreateArticleRequest.js';
import type { DeleteArticleRequest as _meshguard_demo_DeleteArticleRequest, DeleteArticleRequest__Output as _meshguard_demo_DeleteArticleRequest__Output } from '../../meshguard/demo/DeleteArticleRequest.js';
import type { DeleteArticleResponse as _meshguard_demo_DeleteArticleResponse, DeleteArticleResponse__Output as _meshguard_demo_DeleteArticleResponse__Output } from '../../meshguard/demo/DeleteArticleResponse.js';
import type { GetArticleRequest as _meshguard_demo_GetArticleRequest, GetArticleRequest__Output as _meshguard_demo_GetArticleRequest__Output } from '../../meshguard/demo/GetArticleRequest.js';
import type { ListArticlesRequest as _meshguard_demo_ListArticlesRequest, ListArticlesRequest__Output as _meshguard_demo_ListArticlesRequest__Output } from '../../meshguard/demo/ListArticlesRequest.js';
import type { ListArticlesResponse as _meshguard_demo_ListArticlesResponse, ListArticlesResponse__Output as _meshguard_demo_ListArticlesResponse__Output } from '../../meshguard/demo/ListArticlesResponse.js';

/**
 * A catalogue of articles held in memory.
 */
export interface ArticleServiceClient extends grpc.Client {
  /**
   * Adds an article; the server assigns its id. Requires `article.write`.
   */
  Create(argument: _meshguard_demo_CreateArticleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  Create(argument: _meshguard_demo_CreateArticleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  Create(argument: _meshguard_demo_CreateArticleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  Create(argument: _meshguard_demo_CreateArticleRequest, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  /**
   * Adds an article; the server assigns its id. Requires `article.write`.
   */
  create(argument: _meshguard_demo_CreateArticleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  create(argument: _meshguard_demo_CreateArticleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  create(argument: _meshguard_demo_CreateArticleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  create(argument: _meshguard_demo_CreateArticleRequest, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  
  /**
   * Removes an article, or NOT_FOUND. Requires `article.write`.
   */
  Delete(argument: _meshguard_demo_DeleteArticleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _meshguard_demo_DeleteArticleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _meshguard_demo_DeleteArticleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _meshguard_demo_DeleteArticleRequest, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes an article, or NOT_FOUND. Requires `article.write`.
   */
  delete(argument: _meshguard_demo_DeleteArticleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _meshguard_demo_DeleteArticleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _meshguard_demo_DeleteArticleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _meshguard_demo_DeleteArticleRequest, callback: grpc.requestCallback<_meshguard_demo_DeleteArticleResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * One article by id, or NOT_FOUND. Requires `article.read`.
   */
  Get(argument: _meshguard_demo_GetArticleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  Get(argument: _meshguard_demo_GetArticleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  Get(argument: _meshguard_demo_GetArticleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  Get(argument: _meshguard_demo_GetArticleRequest, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  /**
   * One article by id, or NOT_FOUND. Requires `article.read`.
   */
  get(argument: _meshguard_demo_GetArticleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  get(argument: _meshguard_demo_GetArticleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  get(argument: _meshguard_demo_GetArticleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  get(argument: _meshguard_demo_GetArticleRequest, callback: grpc.requestCallback<_meshguard_demo_Article__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every article, by id. Requires `article.read`.
   */
  List(argument: _meshguard_demo_ListArticlesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _meshguard_demo_ListArticlesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _meshguard_demo_ListArticlesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _meshguard_demo_ListArticlesRequest, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every article, by id. Requires `article.read`.
   */
  list(argument: _meshguard_demo_ListArticlesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _meshguard_demo_ListArticlesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _meshguard_demo_ListArticlesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _meshguard_demo_ListArticlesRequest, callback: grpc.requestCallback<_meshguard_demo_ListArticlesResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * A catalogue of articles held in memory.
 */
export interface ArticleServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Adds an article; the server assigns its id. Requires `article.write`.
   */
  Create: grpc.handleUnaryCall<_meshguard_demo_CreateArticleRequest__Output, _meshguard_demo_Article>;
  
  /**
   * Removes an article, or NOT_FOUND. Requires `article.write`.
   */
  Delete: grpc.handleUnaryCall<_meshguard_demo_DeleteArticleRequest__Output, _meshguard_demo_DeleteArticleResponse>;
  
  /**
   * One article by id, or NOT_FOUND. Requires `article.read`.
   */
  Get: grpc.handleUnaryCall<_meshguard_demo_GetArticleRequest__Output, _meshguard_demo_Article>;
  
  /**
   * Every article, by id. Requires `article.read`.
   */
  List: grpc.handleUnaryCall<_meshguard_demo_ListArticlesRequest__Output, _meshguard_demo_ListArticlesResponse>;
  
}

export interface ArticleServiceDefinition extends grpc.ServiceDefinition {
  Create: MethodDefinition<_meshguard_demo_CreateArticleRequest, _meshguard_demo_Article, _meshguard_demo_CreateArticleRequest__Output, _meshguard_demo_Article__Output>
  Delete: MethodDefinition<_meshguard_demo_DeleteArticleRequest, _meshguard_demo_DeleteArticleResponse, _meshguard_demo_DeleteArticleRequest__Output, _meshguard_demo_DeleteArticleResponse__Output>
  Get: MethodDefinition<_meshguard_demo_GetArticleRequest, _meshguard_demo_Article, _meshguard_demo_GetArticleRequest__Output, _meshguard_demo_Article__Output>
  List: MethodDefinition<_meshguard_demo_ListArticlesRequest, _meshguard_demo_ListArticlesResponse, _meshguard_demo_ListArticlesRequest__Output, _meshguard_demo_ListArticlesResponse__Output>
}
