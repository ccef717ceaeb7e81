/**
 * Regenerates rules.star, the benchmark's input: a Bazel-style rules file (providers, rules, macros, repository
 * rules) instantiated from template.star.txt for several languages, about 1,300 lines. Run with
 * `bun bench/starlark-parse/make-sample.ts`; the output is committed so the figure is reproducible.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const langs = [
  ["java", "java"],
  ["scala", "scala"],
  ["kotlin", "kt"],
  ["swift", "swift"],
];
const template = readFileSync(join(import.meta.dir, "template.star.txt"), "utf8");
const header = `"""Rules for compiled languages, in the style of Bazel rule sets (rules_go, rules_rust ...)."""

load("@bazel_skylib//lib:paths.bzl", "paths")
load("@bazel_skylib//lib:dicts.bzl", dicts = "dicts")
load(":common.bzl", "merge_runfiles", common_attrs = "ATTRS")

VERSION = "0.42.0"
`;
const body = langs
  .map(([lang, ext]) =>
    template
      .replaceAll("{Lang}", lang![0]!.toUpperCase() + lang!.slice(1))
      .replaceAll("{LANG}", lang!.toUpperCase())
      .replaceAll("{lang}", lang!)
      .replaceAll("{ext}", ext!),
  )
  .join("\n");
const trailer = `
# ---------------------------------------------------------------------------------------------------------------
# Shared macros
# ---------------------------------------------------------------------------------------------------------------

def expand_template(name, template, out, substitutions = {}, **kwargs):
    """A genrule that substitutes {KEY} placeholders, with sed."""
    cmds = ["sed"]
    for key, value in sorted(substitutions.items()):
        cmds.append("-e 's|{%s}|%s|g'" % (key, value.replace("|", "\\\\|")))
    native.genrule(
        name = name,
        srcs = [template],
        outs = [out],
        cmd = " ".join(cmds) + " $< > $@",
        **kwargs
    )

def filegroup_by_extension(name, srcs, extensions, visibility = None):
    groups = {}
    for src in srcs:
        ext = src.rpartition(".")[2]
        if ext in extensions:
            groups.setdefault(ext, []).append(src)
    for ext, files in groups.items():
        native.filegroup(name = "%s_%s" % (name, ext), srcs = files, visibility = visibility)
    return sorted(groups.keys())

def _flatten(nested):
    out = []
    for item in nested:
        if type(item) == "list":
            out.extend(item)
        elif item != None:
            out.append(item)
    return out

def all_targets(languages = ("java", "scala", "kotlin", "swift"), kinds = ("library", "binary", "test")):
    return _flatten([["//%s:%s_%s" % (lang, lang, kind) for kind in kinds] for lang in languages])

def check_visibility(visibility):
    if visibility == None:
        return ["//visibility:private"]
    bad = [v for v in visibility if not (v.startswith("//") or v.startswith("@"))]
    if bad:
        fail("invalid visibility: %s" % bad)
    return visibility

def version_at_least(version, minimum):
    v = [int(x) for x in version.split(".")]
    m = [int(x) for x in minimum.split(".")]
    for a, b in zip(v, m):
        if a != b:
            return a > b
    return len(v) >= len(m)

DEFAULT_VISIBILITY = check_visibility(["//visibility:public"])
ALL_TARGETS = all_targets()
`;
writeFileSync(join(import.meta.dir, "rules.star"), header + "\n" + body + trailer);
