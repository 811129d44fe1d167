// Compiles proto/ into src/containerd/api/descriptor.generated.ts, the descriptor the CLI loads at start
// (no .proto parsing at run time). A unit test fails when the file is out of date with proto/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { descriptorModule } from '../src/containerd/api/proto-source.js';

writeFileSync(join(import.meta.dirname, '../src/containerd/api/descriptor.generated.ts'), descriptorModule());
