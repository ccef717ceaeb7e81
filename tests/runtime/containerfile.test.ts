import { describe, expect, test } from "bun:test";
import { readContainerfile } from "../../src/runtime/containerfile.ts";

describe("reading EXPOSE and VOLUME like Clace", () => {
  test("the last numeric EXPOSE wins; non-numeric ones are skipped", () => {
    const info = readContainerfile("FROM x\nEXPOSE 5000\nEXPOSE 8080/tcp\nexpose 7000 9000\nEXPOSE $PORT\n");
    expect(info.port).toBe(7000);
    expect(info.skippedExpose).toEqual(["8080/tcp", "$PORT"]);
  });

  test("no EXPOSE gives port 0", () => {
    expect(readContainerfile("FROM busybox\nCMD [\"true\"]\n").port).toBe(0);
  });

  test("continuation lines and comments are handled by the parser, not by regexes", () => {
    expect(readContainerfile("FROM x\n# EXPOSE 1\nEXPOSE \\\n  8501\n").port).toBe(8501);
  });

  test("VOLUME in JSON and plain forms", () => {
    expect(readContainerfile('FROM x\nVOLUME ["/a", "/b"]\nVOLUME /c /d\n').volumes).toEqual(["/a", "/b", "/c", "/d"]);
  });
});
