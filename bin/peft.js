#!/usr/bin/env node
// Thin launcher: everything lives in dist/cli (compiled from src/cli by `npm run build`,
// which `npm ci` runs through the `prepare` script).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
