// Compiled by the package's typecheck, never run: registry-client's Logger is the one shape of
// every vmcp-k8s package (kube-runtime's), and console satisfies it as it is. (The consumer
// check, scripts/check-consumer.mjs, does the same for pino against the packed packages.)
import type { Logger as RuntimeLogger } from '@vmcp/kube-runtime';
import type { Logger } from '../src/index.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const sameShape: Same<Logger, RuntimeLogger> = true;
export const consoleFits: Logger = console;
