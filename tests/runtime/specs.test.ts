import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { renderSpecsBundle } from "../../scripts/gen-specs.ts";
import { listSpecs, readSpec, specDir } from "../../src/runtime/specs.ts";

const root = join(import.meta.dir, "..", "..");

describe("bundled specs", () => {
  test("the embedded bundle matches the specs folder (run scripts/gen-specs.ts after editing a spec)", () => {
    expect(readFileSync(join(root, "src", "runtime", "specs-bundle.ts"), "utf8")).toBe(renderSpecsBundle());
  });

  test("every spec Clace users rely on is there", () => {
    const names = listSpecs().map((s) => s.name);
    for (const n of [
      "container",
      "image",
      "proxy",
      "python-flask",
      "python-wsgi",
      "python-asgi",
      "python-fasthtml",
      "python-streamlit",
      "python-gradio",
      "python-nicegui",
      "go",
    ]) {
      expect(names).toContain(n);
    }
  });

  test("containerfiles avoid BuildKit-only syntax (heredocs, RUN --mount, # syntax=)", () => {
    for (const s of listSpecs()) {
      for (const f of s.files.filter((f) => /^(Containerfile|Dockerfile)/.test(f))) {
        const text = readSpec(s.name).contents[f]!;
        expect(text).not.toMatch(/<<-?\s*['"]?[A-Z]+/);
        expect(text).not.toMatch(/--mount=/);
        expect(text).not.toMatch(/^#\s*syntax=/m);
      }
    }
  });

  test("an unknown spec names the known ones", () => {
    expect(() => readSpec("rails")).toThrow('unknown spec "rails"');
  });

  test("a spec's folder on disk has exactly its files", () => {
    const dir = specDir(readSpec("python-streamlit"));
    const onDisk = readdirSync(dir).sort();
    expect(onDisk).toEqual([...readSpec("python-streamlit").files]);
    expect(statSync(join(dir, "start.sh")).mode & 0o111).not.toBe(0);
    expect(specDir(readSpec("python-streamlit"))).toBe(dir);
  });
});
