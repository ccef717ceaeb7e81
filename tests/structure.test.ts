/**
 * The folders of src/ are floors: a folder imports another only through that folder's index.ts, and only one on a
 * lower floor (cli → server → runtime → proxy, containers → starlark). Read from the sources, so that it stays true.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

/** Higher imports lower; two folders on one floor do not import each other. */
const FLOORS: Readonly<Record<string, number>> = {
  cli: 4,
  server: 3,
  runtime: 2,
  proxy: 1,
  containers: 1,
  starlark: 0,
};

interface ImportEdge {
  file: string;
  line: number;
  spec: string;
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

// Static imports and re-exports (`from "x"`), dynamic imports and `typeof import("x")`, side-effect imports.
const IMPORT = /\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, "utf8");
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith(".")) continue;
    const line = text.slice(0, m.index).split("\n").length;
    edges.push({ file: relative(SRC, file), line, spec, target: relative(SRC, resolve(dirname(file), spec)) });
  }
  return edges;
}

function folderOf(path: string): string | undefined {
  const parts = path.split("/");
  return parts.length > 1 && !path.startsWith("..") ? parts[0] : undefined;
}

const edges = sourceFiles(SRC).flatMap(importsOf);
const crossFolder = edges.filter((e) => {
  const from = folderOf(e.file);
  const to = folderOf(e.target);
  return from !== undefined && to !== undefined && from !== to;
});

describe("imports follow the floors", () => {
  test("the parser sees the imports (a known cross-folder import is found)", () => {
    // If the pattern stopped matching, every other check here would pass vacuously.
    expect(crossFolder.some((e) => e.file.startsWith("runtime/") && e.target === "starlark/index.ts")).toBe(true);
    expect(crossFolder.length).toBeGreaterThan(20);
  });

  test("every top-level folder has a floor", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(Object.keys(FLOORS).sort());
  });

  test("a folder imports another only through its index.ts", () => {
    const skipping = crossFolder.filter((e) => e.target !== `${folderOf(e.target)}/index.ts`).map((e) => `${e.file}:${e.line} imports ${e.spec}`);
    expect(skipping).toEqual([]);
  });

  test("imports go only to a lower floor", () => {
    const upward = crossFolder
      .filter((e) => FLOORS[folderOf(e.target)!]! >= FLOORS[folderOf(e.file)!]!)
      .map((e) => `${e.file}:${e.line} imports ${e.spec} (${folderOf(e.file)} is not above ${folderOf(e.target)})`);
    expect(upward).toEqual([]);
  });

  test("the folder graph has no loop", () => {
    const graph = new Map<string, Set<string>>();
    for (const e of crossFolder) {
      const from = folderOf(e.file)!;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(folderOf(e.target)!);
    }
    const loops: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) {
        loops.push([...path.slice(path.indexOf(node)), node].join(" → "));
        return;
      }
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of graph.keys()) visit(node, []);
    expect(loops).toEqual([]);
  });
});
