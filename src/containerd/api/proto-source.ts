/**
 * The .proto text of our containerd API subset, for the tools that compile and check it
 * (scripts/proto-descriptor.ts and the tests). The CLI never parses .proto text: it loads the descriptor
 * compiled from these files (descriptor.generated.ts).
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { PROTO_FILES } from './proto-files.js';

/** proto/ at the repository root. */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

function parseProtoFiles(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : `${PROTO_DIR}/${target}`);
  return root.loadSync(PROTO_FILES, { keepCase: true });
}

/** The text of descriptor.generated.ts for the current .proto files. */
export function descriptorModule(): string {
  const json = JSON.stringify(parseProtoFiles().toJSON(), null, 2);
  return (
    '// Generated from proto/ by `npm run proto` (scripts/proto-descriptor.ts). Do not edit.\n' +
    "import type { INamespace } from 'protobufjs';\n\n" +
    "// protobufjs's INamespace typing requires fields (`comment`) that its own toJSON leaves out.\n" +
    `export const DESCRIPTOR = ${json} as unknown as INamespace;\n`
  );
}
