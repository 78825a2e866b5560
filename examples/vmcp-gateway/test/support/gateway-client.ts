import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

/** An SDK client connected to a gateway, counting the `tools/list_changed` it receives. */
export class GatewayClient implements AsyncDisposable {
  listChanged = 0;

  private constructor(readonly client: Client) {}

  static async connect(gatewayUrl: string): Promise<GatewayClient> {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    const connected = new GatewayClient(client);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      connected.listChanged++;
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp`)));
    return connected;
  }

  /** The served tool names, sorted. */
  async toolNames(): Promise<string[]> {
    const { tools } = await this.client.listTools();
    return tools.map((tool) => tool.name).sort();
  }

  /** Calls a tool with `{ text }` and returns its first text content. */
  async call(name: string, text = ''): Promise<string> {
    const result = (await this.client.callTool({ name, arguments: { text } })) as CallToolResult;
    const first = result.content[0];
    if (first?.type !== 'text') throw new Error(`${name} answered no text`);
    return first.text;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
