#!/usr/bin/env node
// qless-ts: the management command line (built into dist/ by `npm run build`).
import '../dist/cli/qless.js';
