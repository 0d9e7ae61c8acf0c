// Seed builders for the simulator: a hand-made CRM, big generated bases, and the captured fixture base.
export { sampleBase, SAMPLE_USERS } from "./sample-base.ts";
export { generateBase, type GenerateBaseOptions } from "./generate-base.ts";
export { fixtureBase, FIXTURE_BASE_ID } from "./fixture-base.ts";
