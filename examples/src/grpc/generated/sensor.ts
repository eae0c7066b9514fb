import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { FeedRequest as _meshguard_demo_FeedRequest, FeedRequest__Output as _meshguard_demo_FeedRequest__Output } from './meshguard/demo/FeedRequest.js';
import type { GetReadingRequest as _meshguard_demo_GetReadingRequest, GetReadingRequest__Output as _meshguard_demo_GetReadingRequest__Output } from './meshguard/demo/GetReadingRequest.js';
import type { Reading as _meshguard_demo_Reading, Reading__Output as _meshguard_demo_Reading__Output } from './meshguard/demo/Reading.js';
import type { SensorServiceClient as _meshguard_demo_SensorServiceClient, SensorServiceDefinition as _meshguard_demo_SensorServiceDefinition } from './meshguard/demo/SensorService.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  meshguard: {
    demo: {
      FeedRequest: MessageTypeDefinition<_meshguard_demo_FeedRequest, _meshguard_demo_FeedRequest__Output>
      GetReadingRequest: MessageTypeDefinition<_meshguard_demo_GetReadingRequest, _meshguard_demo_GetReadingRequest__Output>
      Reading: MessageTypeDefinition<_meshguard_demo_Reading, _meshguard_demo_Reading__Output>
      /**
       * Simulated sensors: one reading on request, or a feed of readings.
       */
      SensorService: SubtypeConstructor<typeof grpc.Client, _meshguard_demo_SensorServiceClient> & { service: _meshguard_demo_SensorServiceDefinition }
      SensorType: EnumTypeDefinition
    }
  }
}

