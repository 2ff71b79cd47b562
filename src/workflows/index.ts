// Bundled by the worker: deterministic workflow code only, no I/O imports.
export { processBatch } from './processBatch';
export { reviewTransaction } from './review';
