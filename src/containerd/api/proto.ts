import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** Our subset of containerd's .proto files, at the repository root (same path from src/ and dist/). */
const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

const FILES = [
  'version',
  'introspection',
  'namespaces',
  'containers',
  'tasks',
  'snapshots',
  'images',
  'content',
  'leases',
];

let loaded: GrpcObject | undefined;

function load(): GrpcObject {
  loaded ??= loadPackageDefinition(
    loadSync(
      FILES.map((f) => `containerd/services/${f}.proto`),
      {
        includeDirs: [PROTO_DIR],
        keepCase: true,
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
      },
    ),
  );
  return loaded;
}

export type ServiceName =
  | 'version.v1.Version'
  | 'introspection.v1.Introspection'
  | 'namespaces.v1.Namespaces'
  | 'containers.v1.Containers'
  | 'tasks.v1.Tasks'
  | 'snapshots.v1.Snapshots'
  | 'images.v1.Images'
  | 'content.v1.Content'
  | 'leases.v1.Leases';

/** The generated client constructor of `containerd.services.<name>`. */
export function serviceConstructor(name: ServiceName): ServiceClientConstructor {
  let node: unknown = load()['containerd'];
  for (const part of ['services', ...name.split('.')]) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  if (typeof node !== 'function') throw new Error(`proto service containerd.services.${name} is missing`);
  return node as ServiceClientConstructor;
}

export { PROTO_DIR };
