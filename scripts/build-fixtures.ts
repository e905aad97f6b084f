/** `npm run fixtures`: rebuild the synthetic fixtures (fixtures/build.ts). Review the diff before committing. */
import { writeFixtures } from '../fixtures/build.js';

for (const path of writeFixtures()) console.log(`wrote ${path}`);
