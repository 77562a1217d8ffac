/* Pure (no Node imports): observe/ bundles it into the viewer's page too. */

/** Stream names: `demo-001`, `demo-001/T0`, `demo-001/T0/00-empty`, `demo-001/T0/00-empty/3`. */
export const streams = {
  tier: (key: string, tier: string) => `${key}/${tier}`,
  subtest: (key: string, tier: string, subtest: string) => `${key}/${tier}/${subtest}`,
  run: (key: string, tier: string, subtest: string, run: number) => `${key}/${tier}/${subtest}/${run}`,
};
