/** The .proto files of our containerd API subset, relative to proto/. */
export const PROTO_FILES = [
  'version',
  'introspection',
  'namespaces',
  'containers',
  'tasks',
  'snapshots',
  'images',
  'content',
  'leases',
].map((f) => `containerd/services/${f}.proto`);
