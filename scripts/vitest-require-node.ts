// vitest globalSetup: the test run must fail on a Node older than 24.
export default function requireNode24(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    throw new Error(
      `tests must run on Node.js 24 or newer, found ${process.versions.node}: run them through pnpm`,
    );
  }
}
