/**
 * The two calls lifecycle needs on containerd's socket, each with a deadline: containerd's Version (is it up,
 * which release) and CRI's RuntimeService/Status (which runtime handlers it serves). Message types are
 * declared inline, field numbers as in containerd's and Kubernetes' protos.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { methodCodec } from '../../containerd/api/codec.js';

const EMPTY = { google: { nested: { protobuf: { nested: { Empty: { fields: {} } } } } } };

const DESCRIPTOR = {
  nested: {
    ...EMPTY,
    containerd: {
      nested: {
        services: {
          nested: {
            version: {
              nested: {
                v1: {
                  nested: {
                    Version: {
                      methods: {
                        Version: { requestType: '.google.protobuf.Empty', responseType: 'VersionResponse' },
                      },
                    },
                    VersionResponse: {
                      fields: { version: { type: 'string', id: 1 }, revision: { type: 'string', id: 2 } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    runtime: {
      nested: {
        v1: {
          nested: {
            RuntimeService: {
              methods: { Status: { requestType: 'StatusRequest', responseType: 'StatusResponse' } },
            },
            StatusRequest: { fields: { verbose: { type: 'bool', id: 1 } } },
            StatusResponse: {
              fields: {
                status: { type: 'RuntimeStatus', id: 1 },
                info: { keyType: 'string', type: 'string', id: 2 },
                runtime_handlers: { rule: 'repeated', type: 'RuntimeHandler', id: 3 },
              },
            },
            RuntimeStatus: { fields: { conditions: { rule: 'repeated', type: 'RuntimeCondition', id: 1 } } },
            RuntimeCondition: {
              fields: {
                type: { type: 'string', id: 1 },
                status: { type: 'bool', id: 2 },
                reason: { type: 'string', id: 3 },
                message: { type: 'string', id: 4 },
              },
            },
            RuntimeHandler: { fields: { name: { type: 'string', id: 1 } } },
          },
        },
      },
    },
  },
};

let root: protobuf.Root | undefined;

function call<T>(
  socket: string,
  service: string,
  method: string,
  request: object,
  timeoutMs: number,
): Promise<T> {
  root ??= protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
  const codec = methodCodec(root, service, method);
  if (!codec) throw new Error(`no RPC ${service}/${method} in the descriptor`);
  const client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
  return new Promise<T>((resolve, reject) => {
    client.makeUnaryRequest(
      codec.path,
      codec.serialize,
      codec.deserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) => {
        client.close();
        if (error) reject(error);
        else resolve(response as T);
      },
    );
  });
}

export async function containerdVersion(socket: string, timeoutMs: number): Promise<string> {
  const r = await call<{ version: string }>(
    socket,
    'containerd.services.version.v1.Version',
    'Version',
    {},
    timeoutMs,
  );
  return r.version;
}

export interface CriStatus {
  readonly handlers: readonly string[];
  readonly conditions: readonly { type: string; status: boolean; reason: string }[];
}

/** CRI status; undefined when the CRI plugin is not serving on this socket (disabled or failed to start). */
export async function criStatus(socket: string, timeoutMs: number): Promise<CriStatus | undefined> {
  let r: {
    status?: { conditions?: { type: string; status: boolean; reason: string }[] };
    info?: Record<string, string>;
    runtime_handlers?: { name: string }[];
  };
  try {
    r = await call(socket, 'runtime.v1.RuntimeService', 'Status', { verbose: true }, timeoutMs);
  } catch (error) {
    if ((error as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) return undefined;
    throw error;
  }
  const names = new Set((r.runtime_handlers ?? []).map((h) => h.name).filter((n) => n !== ''));
  const config = r.info?.['config'];
  if (config !== undefined) {
    try {
      const parsed = JSON.parse(config) as { containerd?: { runtimes?: Record<string, unknown> } };
      for (const name of Object.keys(parsed.containerd?.runtimes ?? {})) names.add(name);
    } catch {
      // An unparsable info blob leaves only the handler list.
    }
  }
  return { handlers: [...names].sort(), conditions: r.status?.conditions ?? [] };
}
