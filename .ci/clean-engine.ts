/**
 * CI starts from a known engine: every container, image and volume that clace-lite or its tests made on an earlier
 * run of this machine goes (the engine is found as clace-lite finds it: DOCKER_HOST, else Docker's socket). The
 * tests' base images (clace-lite-test/*) stay; they are made offline once per machine.
 */
import { connectEngine, LABEL_MANAGED } from "../src/containers/index.ts";
import { removeLabelled, TEST_LABEL } from "../tests/fixtures/engine.ts";

const engine = await connectEngine();
let removed = 0;
for (const filter of [[`${LABEL_MANAGED}=true`], [TEST_LABEL]]) removed += await removeLabelled(engine, filter);
console.log(`${engine.endpoint}: removed ${removed} containers, images and volumes left by earlier runs`);
