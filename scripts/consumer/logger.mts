// One Logger shape across the packages, which console and pino both satisfy as they are.
import type { Logger as RuntimeLogger } from '@vmcp/kube-runtime';
import type { Logger as ClientLogger } from '@vmcp/registry-client';
import { pino } from 'pino';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const sameShape: Same<RuntimeLogger, ClientLogger> = true;

export const loggers: RuntimeLogger[] = [console, pino(), pino().child({ component: 'x' })];
export const clientLoggers: ClientLogger[] = [console, pino()];
