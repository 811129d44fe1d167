import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON, loadSync, type Options } from '@grpc/proto-loader';
import { PROTO_FILES } from './proto-files.js';

/** Our subset of containerd's .proto files, at the repository root (same path from src/ and dist/). */
const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));
/** The same files compiled at build time by scripts/proto-json.mjs; only next to dist/. */
const COMPILED = new URL('../../proto.json', import.meta.url);

const OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let loaded: GrpcObject | undefined;

function load(): GrpcObject {
  if (loaded) return loaded;
  let compiled: string | undefined;
  try {
    compiled = readFileSync(COMPILED, 'utf8');
  } catch {
    // Running from src/ (tests under tsx): parse the .proto files.
  }
  const definition = compiled
    ? fromJSON(JSON.parse(compiled) as Record<string, unknown>, OPTIONS)
    : loadSync(PROTO_FILES, { ...OPTIONS, includeDirs: [PROTO_DIR] });
  loaded = loadPackageDefinition(definition);
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
