/**
 * `serve-demo-backends`: two MCP servers on loopback for the README's walkthrough, `weather`
 * (Streamable HTTP on port 9101) and `notes` (SSE on port 9102), made with the SDK. Declare
 * them to the demo's cluster with `demo/backends.yaml`; Ctrl-C stops them.
 */
import { type ExampleServer, startExampleServer } from './example-server.js';

const notes: string[] = [];
const servers: ExampleServer[] = [];
try {
  servers.push(
    await startExampleServer({
      name: 'weather',
      transport: 'streamable-http',
      port: 9101,
      tools: [
        {
          name: 'forecast',
          description: 'Tomorrow’s weather for a city (made up)',
          run: (city) => `${city || 'Anywhere'}: sunny, 21 °C`,
        },
      ],
    }),
    await startExampleServer({
      name: 'notes',
      transport: 'sse',
      port: 9102,
      tools: [
        {
          name: 'add',
          description: 'Keeps a note',
          run: (text) => `note ${notes.push(text)} kept`,
        },
        { name: 'list', description: 'Lists the notes', run: () => notes.join('\n') || '(none)' },
      ],
    }),
  );
} catch (error) {
  const code = (error as { code?: unknown }).code;
  console.error(
    `serve-demo-backends: cannot listen (${String(code ?? error)}); is it running already?`,
  );
  await Promise.all(servers.map((server) => server.close()));
  process.exit(1);
}
for (const server of servers) console.log(`serving ${server.url}`);
console.log(
  'declare them: kubectl apply -f examples/vmcp-gateway/demo/backends.yaml (see the README)',
);
await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
await Promise.all(servers.map((server) => server.close()));
