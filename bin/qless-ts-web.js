#!/usr/bin/env node
// qless-ts-web: the web dashboard (built into dist/ by `npm run build`).
import '../dist/cli/web.js';
