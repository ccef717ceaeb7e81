/**
 * Loaded before every test file (bunfig.toml). After the whole run, what `serve` and `check` kept in the engine for
 * the tests' apps is removed: they keep an app's image for the next run on purpose (as users want), so without
 * this every run would leave images behind, and a store that only grows slows every later run.
 */
import { afterAll } from "bun:test";
import { removeServeLeftovers } from "./fixtures/engine.ts";

afterAll(removeServeLeftovers);
