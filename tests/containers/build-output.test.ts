/** The label steps engines append for a build's labels are hidden from the build output people see. */
import { expect, test } from "bun:test";
import { BuildOutputFilter } from "../../src/containers/build-output.ts";

const KEYS = ["dev.clace-lite.app", "dev.clace-lite.hash"];

function shown(lines: string[]): string[] {
  const filter = new BuildOutputFilter(KEYS);
  return lines.map((l) => filter.line(l)).filter((l): l is string => l !== null);
}

test("Docker's classic builder: label steps and their lines go, the count drops by the labels", () => {
  expect(
    shown([
      "Step 1/4 : FROM base",
      " ---> 87f5cacedddc",
      "Step 2/4 : EXPOSE 8080",
      " ---> Running in cb71",
      "Removing intermediate container cb71",
      " ---> 2a18",
      "Step 3/4 : LABEL dev.clace-lite.app=app_x",
      " ---> Running in f229",
      "Removing intermediate container f229",
      " ---> a955",
      "Step 4/4 : LABEL dev.clace-lite.hash=f846",
      " ---> Running in 00df",
      " ---> 1d96",
      "Successfully built 1d96",
      "Successfully tagged x:1",
    ]),
  ).toEqual(["Step 1/2 : FROM base", " ---> 87f5cacedddc", "Step 2/2 : EXPOSE 8080", " ---> Running in cb71", "Removing intermediate container cb71", " ---> 2a18", "Successfully built 1d96", "Successfully tagged x:1"]);
});

test("Podman: quoted label keys, STEP i/M:, and the COMMIT line stays", () => {
  expect(
    shown(['STEP 1/3: FROM base', 'STEP 2/3: LABEL "dev.clace-lite.app"="app_x"', "--> abc", 'STEP 3/3: LABEL "dev.clace-lite.hash"="f846"', "COMMIT x:1", "--> def", "Successfully tagged localhost/x:1"]),
  ).toEqual(["STEP 1/1: FROM base", "COMMIT x:1", "--> def", "Successfully tagged localhost/x:1"]);
});

test("a user's own LABEL step stays", () => {
  expect(shown(["Step 1/3 : LABEL maintainer=me", "Step 2/3 : LABEL dev.clace-lite.app=a", "Step 3/3 : LABEL dev.clace-lite.hash=h"])).toEqual(["Step 1/1 : LABEL maintainer=me"]);
});
