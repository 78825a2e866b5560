#!/usr/bin/env node
// Fails the run when it is not on Node.js 24 or newer. The repository brings Node 24 itself
// (the `node` devDependency puts it in node_modules/.bin, which pnpm puts first on PATH), so
// an older Node here means the scripts were started outside pnpm.
const required = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < required) {
  console.error(
    `error: this run is on Node.js ${process.versions.node}; it needs Node.js ${required} or newer. ` +
      'Run it through pnpm (npx --yes pnpm@10.34.9 test), which uses the Node 24 from node_modules/.bin.',
  );
  process.exit(1);
}
