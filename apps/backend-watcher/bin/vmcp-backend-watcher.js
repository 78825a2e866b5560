#!/usr/bin/env node
// The `vmcp-backend-watcher` command: the built CLI. A committed file of its own, so that installing the
// workspace links the command before anything is built (a bin pointing into dist/ made every
// fresh install warn "Failed to create bin").
import '../dist/cli.js';
