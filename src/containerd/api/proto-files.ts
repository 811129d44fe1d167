/** The .proto files of our API subset, relative to proto/: containerd's services and CRI's RuntimeService. */
export const PROTO_FILES = [
  ...[
    'version',
    'introspection',
    'namespaces',
    'containers',
    'tasks',
    'snapshots',
    'images',
    'content',
    'leases',
  ].map((f) => `containerd/services/${f}.proto`),
  'cri/api.proto',
];
