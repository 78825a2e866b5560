#!/usr/bin/env node
/**
 * The `vmcp-backend-watcher` program. It makes ES imports of Node's built-ins as cheap as
 * `require` first (builtin-imports.ts), then loads the commands: an ES module's static imports
 * are all loaded before its code runs, so this module imports nothing else statically.
 */
import { registerLeanBuiltinImports } from './builtin-imports.js';

// For the import-cost benchmark, which measures the program's imports with and without it.
export { registerLeanBuiltinImports };

/** True when this module is the program (not imported by a test or another module). */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  const { realpathSync } = process.getBuiltinModule('node:fs');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  registerLeanBuiltinImports();
  const { EXIT, main, NAME, firstLine } = await import('./main.js');
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${NAME}: unexpected error: ${firstLine(error)}\n`);
    process.exit(EXIT.failure);
  });
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
