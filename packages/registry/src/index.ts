export * from './backend.js';
export { REDACTED, redactAuthStrategy, redactBackend } from './redact.js';
