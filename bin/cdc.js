#!/usr/bin/env node
// The `cdc` executable: the compiled CLI (npm install builds it into dist/).
import('../dist/cli/main.js');
