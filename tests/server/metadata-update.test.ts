/** update-metadata's entries read as Clace reads them, and the change is described one key per line. */
import { describe, expect, test } from "bun:test";
import { EMPTY_METADATA } from "../../src/runtime/index.ts";
import { applyMetadataUpdate, describeSettingsChange, type AppSettings } from "../../src/server/metadata-update.ts";

const current: AppSettings = {
  spec: "container",
  metadata: { ...EMPTY_METADATA, conf: { "container.idle_shutdown_secs": "60" }, copts: { memory: "64m" }, cargs: {}, cvols: ["data:/data"] },
};

describe("applyMetadataUpdate", () => {
  test("key=value sets, key=- removes, a container option may be a bare flag; quotes go from container values only", () => {
    const next = applyMetadataUpdate(current, { field: "copt", entries: ["memory=-", "read-only", "user='1000'"] });
    expect(next.metadata.copts).toEqual({ "read-only": "", user: "1000" });
    const conf = applyMetadataUpdate(current, { field: "conf", entries: ['container.health_url="/x"'] });
    expect(conf.metadata.conf).toEqual({ "container.idle_shutdown_secs": "60", "container.health_url": '"/x"' });
    expect(current.metadata.copts).toEqual({ memory: "64m" });
  });

  test("volumes replace the list; - alone empties it; the spec is a name or - for none", () => {
    expect(applyMetadataUpdate(current, { field: "cvol", entries: ["a:/a", "/b"] }).metadata.cvols).toEqual(["a:/a", "/b"]);
    expect(applyMetadataUpdate(current, { field: "cvol", entries: ["-"] }).metadata.cvols).toEqual([]);
    expect(applyMetadataUpdate(current, { field: "spec", entries: ["python-flask"] }).spec).toBe("python-flask");
    expect(applyMetadataUpdate(current, { field: "spec", entries: ["-"] }).spec).toBe("");
  });

  test("what does not parse is named", () => {
    const error = (field: "spec" | "conf" | "copt" | "carg" | "cvol", entries: string[]) => {
      try {
        applyMetadataUpdate(current, { field, entries });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("no error");
    };
    expect(error("carg", ["FOO"])).toBe('invalid carg "FOO": need key=value (key=- removes the key)');
    expect(error("conf", ["=1"])).toBe('invalid conf "=1": the key is empty');
    expect(error("copt", ["cpus=-"])).toBe("copt cpus is not set, so it cannot be removed (set: memory)");
    expect(error("cvol", ["-", "a:/a"])).toBe("cvol: - (no volumes) cannot be combined with volumes");
    expect(error("spec", ["a", "b"])).toBe("spec takes one name (or - for none), got 2 values");
    expect(error("copt", [])).toBe("no copt value given");
  });
});

describe("describeSettingsChange", () => {
  test("one line per changed key, in a stable order", () => {
    const next = applyMetadataUpdate(applyMetadataUpdate(current, { field: "copt", entries: ["memory=128m", "cpus=1"] }), { field: "spec", entries: ["-"] });
    expect(describeSettingsChange(current, next)).toEqual(["spec: container -> (none)", "copt cpus: (not set) -> 1", "copt memory: 64m -> 128m"]);
    expect(describeSettingsChange(current, current)).toEqual([]);
  });
});
