import protobuf from 'protobufjs/light.js';
import { methodCodec, type MethodCodec } from './codec.js';
import { DESCRIPTOR } from './descriptor.generated.js';

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

let root: protobuf.Root | undefined;
const codecs = new Map<string, MethodCodec | undefined>();

/** The codec of one method of `containerd.services.<service>`; undefined when our subset lacks it. */
export function containerdMethod(service: ServiceName, method: string): MethodCodec | undefined {
  const key = `${service}/${method}`;
  if (!codecs.has(key)) {
    root ??= protobuf.Root.fromJSON(DESCRIPTOR);
    codecs.set(key, methodCodec(root, `containerd.services.${service}`, method));
  }
  return codecs.get(key);
}
