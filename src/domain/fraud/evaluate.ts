/** Precision, recall and F1 of flags against labels, overall and per fraud pattern. */
export interface Score {
  precision: number;
  recall: number;
  f1: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/** Which fraud pattern each detector is built for: a detector's flags count toward that pattern's precision. */
export const DETECTOR_PATTERN: Record<string, string> = {
  'rule:card_testing': 'card_testing',
  'rule:velocity': 'velocity',
  'rule:amount_spike': 'amount_spike',
  'rule:dormant_big_out': 'dormant_new_big_out',
  'rule:new_account_big_out': 'dormant_new_big_out',
  'rule:fan_out': 'fan_out',
  'rule:round_trip': 'round_trip',
};

function score(tp: number, fp: number, fn: number): Score {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, truePositives: tp, falsePositives: fp, falseNegatives: fn };
}

/**
 * Recall per pattern: its labelled transactions that were flagged. Precision per pattern: of the
 * flags raised by that pattern's detectors, the share that are fraud of any pattern (a card-testing
 * rule catching a velocity burst is a correct flag, not a false one).
 */
export function evaluateFlags(
  labels: ReadonlyMap<string, string>,
  flags: ReadonlyMap<string, { detectors: ReadonlyArray<string> }>,
  patterns: ReadonlyArray<string>,
): { overall: Score; perPattern: Record<string, Score> } {
  let tp = 0;
  let fp = 0;
  for (const id of flags.keys()) (labels.has(id) ? tp++ : fp++);
  const overall = score(tp, fp, labels.size - tp);
  const perPattern: Record<string, Score> = {};
  for (const pattern of patterns) {
    let ptp = 0;
    let pfn = 0;
    for (const [id, label] of labels) if (label === pattern) (flags.has(id) ? ptp++ : pfn++);
    let flaggedBy = 0;
    let flaggedByFraud = 0;
    for (const [id, f] of flags) {
      if (!f.detectors.some((d) => DETECTOR_PATTERN[d] === pattern)) continue;
      flaggedBy++;
      if (labels.has(id)) flaggedByFraud++;
    }
    const s = score(ptp, 0, pfn);
    s.falsePositives = flaggedBy - flaggedByFraud;
    s.precision = flaggedBy === 0 ? 1 : flaggedByFraud / flaggedBy;
    s.f1 = s.precision + s.recall === 0 ? 0 : (2 * s.precision * s.recall) / (s.precision + s.recall);
    perPattern[pattern] = s;
  }
  return { overall, perPattern };
}
