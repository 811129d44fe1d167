#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (done by scripts/provision.sh) produces dist/.
import '../dist/main.js';
