import type { ActivityTypes, ApplyBatchInput, ApplyPackedInput } from '../workflows/types';
import { applyBatchWith, applyPackedBatchWith, type ApplyBatchDeps } from './applyBatch';

/** Activities get their pool injected, so tests and the worker pass real ones. */
export function createActivities(deps: ApplyBatchDeps): ActivityTypes {
  return {
    applyBatch: ((input: ApplyBatchInput | ApplyPackedInput, packed?: Uint8Array) =>
      packed === undefined ? applyBatchWith(deps, input as ApplyBatchInput) : applyPackedBatchWith(deps, input as ApplyPackedInput, packed)) as ActivityTypes['applyBatch'],
  };
}
