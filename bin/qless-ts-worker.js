#!/usr/bin/env node
// qless-ts-worker: the worker daemon (built into dist/ by `npm run build`).
import '../dist/cli/worker.js';
