#!/usr/bin/env node
// Runs the bundled CLI; `npm run build` (done by scripts/provision.sh) produces bundle/.
import '../bundle/main.js';
