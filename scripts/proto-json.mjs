// Compiles proto/ into one JSON descriptor next to the built code (dist/proto.json), so the CLI does not
// parse .proto text at every start. src/containerd/api/proto.ts falls back to the .proto files without it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_FILES } from '../dist/containerd/api/proto-files.js';

const dir = join(import.meta.dirname, '../proto/');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : dir + target);
root.loadSync(PROTO_FILES, { keepCase: true });
writeFileSync(join(import.meta.dirname, '../dist/proto.json'), JSON.stringify(root.toJSON()));
