// Bundles the CLI into bundle/ (bin/kata-deploy.js runs bundle/main.js). Node resolves and compiles one
// module per file, and at start that costs more than the commands' own work; the bundle keeps each command's
// code in its own chunk, so `--help` still loads no gRPC and `check` alone loads koffi.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXTERNAL_PACKAGES } from './externals.mjs';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: join(root, 'src/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL_PACKAGES,
  // The bundled CommonJS packages (grpc-js, protobufjs, commander) call require().
  banner: {
    js: "import { createRequire as __kataDeployRequire } from 'node:module';\nconst require = __kataDeployRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
  tsconfig: join(root, 'tsconfig.build.json'),
});
