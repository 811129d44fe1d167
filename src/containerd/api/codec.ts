/**
 * Turns protobufjs message types into what grpc-js needs for one method: its path and its (de)serializers.
 * Responses become plain objects with the field names of the .proto files, 64-bit integers as strings,
 * enums as names and every absent field filled with its default (see wire.ts).
 */
import type protobuf from 'protobufjs';

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

export interface MethodCodec {
  /** `/package.Service/Method`, as gRPC puts it on the wire. */
  readonly path: string;
  readonly responseStream: boolean;
  serialize(request: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

/** The codec of `method` of the service `service` (its full name, without a leading dot). */
export function methodCodec(root: protobuf.Root, service: string, method: string): MethodCodec | undefined {
  const definition = root.lookupService(service).methods[method];
  if (!definition) return undefined;
  definition.resolve();
  const request = definition.resolvedRequestType;
  const response = definition.resolvedResponseType;
  if (!request || !response) throw new Error(`proto method ${service}/${method} has unresolved types`);
  return {
    path: `/${service}/${method}`,
    responseStream: definition.responseStream === true,
    serialize: (value) =>
      Buffer.from(request.encode(request.fromObject(value as Record<string, unknown>)).finish()),
    deserialize: (bytes) => response.toObject(response.decode(bytes), TO_OBJECT),
  };
}
