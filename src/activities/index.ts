import type { ActivityTypes } from '../workflows/types';
import { applyBatchWith, type ApplyBatchDeps } from './applyBatch';

/** Activities get their pool injected, so tests and the worker pass real ones. */
export function createActivities(deps: ApplyBatchDeps): ActivityTypes {
  return {
    applyBatch: (input) => applyBatchWith(deps, input),
  };
}
