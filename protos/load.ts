/**
 * Loads the quotient.v1 protos at run time with exactly the options the generated types in
 * protos/generated/ were made with (`npm run protos`), so the types tell the truth.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as ClusterProto } from './generated/cluster';
import type { ProtoGrpcType as InternetProto } from './generated/internet';
import type { ProtoGrpcType as MetersProto } from './generated/meters';
import type { ProtoGrpcType as PrintingProto } from './generated/printing';

export const PROTO_FILES = ['quotient/v1/cluster.proto', 'quotient/v1/printing.proto', 'quotient/v1/internet.proto', 'quotient/v1/meters.proto'];

/** Must match the flags of the `protos` script in package.json. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  // Works both from the TypeScript sources and from dist/ (the .proto files are not compiled).
  includeDirs: [path.resolve(__dirname, '..', '..', 'protos'), path.resolve(__dirname)],
};

export type QuotientProto = ClusterProto & PrintingProto & InternetProto & MetersProto;

let cached: QuotientProto | undefined;

export function loadQuotientProto(): QuotientProto {
  cached ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS)) as unknown as QuotientProto;
  return cached;
}
