/**
 * Any MCP client works with the gateway; this is the SDK's, in a few lines: it lists the
 * gateway's tools, calls one, and prints what a `tools/list_changed` brings.
 *
 *   node --import tsx examples/call-tool.ts http://127.0.0.1:8090 weather_forecast Lisbon
 */
// #region readme
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const [gateway = 'http://127.0.0.1:8090', tool = 'weather_forecast', text = 'Lisbon'] =
  process.argv.slice(2);
const client = new Client({ name: 'demo-client', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway}/mcp`)));

const { tools } = await client.listTools();
console.log('tools:', tools.map((t) => t.name).join(', '));
console.log(`${tool}:`, (await client.callTool({ name: tool, arguments: { text } })).content);

// The gateway tells every session when its catalog changes (a backend added, removed, down).
client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
  const { tools: now } = await client.listTools();
  console.log('tools changed:', now.map((t) => t.name).join(', '));
});
// #endregion readme
process.once('SIGINT', () => void client.close());
