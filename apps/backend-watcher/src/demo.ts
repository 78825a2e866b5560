import type { DemoConfig } from './config.js';

export async function runDemo(_config: DemoConfig): Promise<number> {
  throw new Error('demo: not yet available');
}
