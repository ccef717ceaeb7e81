import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepAppLeftovers } from "../../src/server/leftovers.ts";

test("a reload's checkouts that never switched are removed; the one the record names stays, with its sub folder", () => {
  const apps = mkdtempSync(join(tmpdir(), "clace-lite-leftovers-"));
  try {
    const app = join(apps, "app_cl_1");
    for (const d of ["source-aaa1/sub", "source-bbb2", "source-ccc3"]) mkdirSync(join(app, d), { recursive: true });
    mkdirSync(join(apps, "app_cl_gone"), { recursive: true });
    const done = sweepAppLeftovers(apps, new Map([["app_cl_1", join(app, "source-aaa1", "sub")]]));
    expect(existsSync(join(app, "source-aaa1", "sub"))).toBe(true);
    expect(existsSync(join(app, "source-bbb2"))).toBe(false);
    expect(existsSync(join(app, "source-ccc3"))).toBe(false);
    expect(existsSync(join(apps, "app_cl_gone"))).toBe(false);
    expect(done.length).toBe(3);
  } finally {
    rmSync(apps, { recursive: true, force: true });
  }
});
