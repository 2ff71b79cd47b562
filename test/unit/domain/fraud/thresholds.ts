import type { FraudThresholds } from '../../../../src/domain/fraud/rules';

/** The configuration defaults, spelled out so a rule test reads on its own. */
export const THRESHOLDS: FraudThresholds = {
  shortWindowS: 60,
  fanOutWindowS: 600,
  paceWindowS: 3600,
  ewmaAlpha: 0.1,
  tinyAmountMinor: 199,
  cardTestingMinCount: 3,
  velocityMinCount: 5,
  velocityRateMultiple: 6,
  spikeMinAmountMinor: 50_000,
  spikeMultiple: 12,
  spikeOverMaxMultiple: 2,
  spikeMinHistory: 4,
  bigOutMinAmountMinor: 200_000,
  newAccountMaxAgeS: 7 * 86_400,
  dormantMinGapS: 30 * 86_400,
  fanOutMinCount: 4,
  fanOutRateMultiple: 4,
  roundTripWindowS: 900,
  roundTripMinAmountMinor: 80_000,
  roundTripAmountTolerance: 0.08,
  anomalyThreshold: 0.99,
  knnMinSimilarity: 0.99,
  knnMinNorm: 10,
};
