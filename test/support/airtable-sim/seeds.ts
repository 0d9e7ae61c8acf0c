// Seed builders for the simulator: a hand-made CRM, big generated bases, and the captured fixture base.

export { FIXTURE_BASE_ID, fixtureBase } from "./fixture-base.ts";
export { type GenerateBaseOptions, generateBase } from "./generate-base.ts";
export { SAMPLE_USERS, sampleBase } from "./sample-base.ts";
