import protobuf from 'protobufjs/light.js';
import { methodCodec, type MethodCodec } from './codec.js';
import { DESCRIPTOR } from './descriptor.generated.js';

/** containerd's services, by their name under `containerd.services`. */
export type ContainerdServiceName =
  | 'version.v1.Version'
  | 'introspection.v1.Introspection'
  | 'namespaces.v1.Namespaces'
  | 'containers.v1.Containers'
  | 'tasks.v1.Tasks'
  | 'snapshots.v1.Snapshots'
  | 'images.v1.Images'
  | 'content.v1.Content'
  | 'leases.v1.Leases';

/** Kubernetes' CRI runtime service, which containerd's CRI plugin serves on the same socket. */
export const CRI_RUNTIME_SERVICE = 'runtime.v1.RuntimeService';

export type ServiceName = ContainerdServiceName | typeof CRI_RUNTIME_SERVICE;

/** The service's full protobuf name. */
function fullServiceName(service: ServiceName): string {
  return service === CRI_RUNTIME_SERVICE ? service : `containerd.services.${service}`;
}

/** How errors name a call: `snapshots.Remove`, `cri.Status`. */
export function rpcLabel(service: ServiceName, method: string): string {
  return `${service === CRI_RUNTIME_SERVICE ? 'cri' : service.split('.')[0]}.${method}`;
}

let root: protobuf.Root | undefined;
const codecs = new Map<string, MethodCodec | undefined>();

/** The codec of one method of `service`; undefined when our subset lacks it. */
export function serviceMethod(service: ServiceName, method: string): MethodCodec | undefined {
  const key = `${service}/${method}`;
  if (!codecs.has(key)) {
    root ??= protobuf.Root.fromJSON(DESCRIPTOR);
    codecs.set(key, methodCodec(root, fullServiceName(service), method));
  }
  return codecs.get(key);
}
