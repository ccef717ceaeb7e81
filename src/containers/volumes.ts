/**
 * Volumes: Clace's four forms turned into Engine API binds. Named and unnamed volumes get per-app names
 * (`clv-<appId>-<hash>`) and are created with labels; a secret template is rendered with the params into the app's
 * run folder and bind-mounted read-only.
 */
import { mkdirSync, readFileSync, realpathSync, writeFileSync, existsSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";
import { EngineError } from "./engine.ts";
import { TemplateError, renderGoTemplate } from "./gotemplate.ts";
import { volumeName } from "./naming.ts";
import type { ContainerSpec, VolumeSpec } from "./spec.ts";

export interface PlannedVolume {
  /** Named volumes to create (with labels) before the container. */
  create?: string;
  bind: string;
}

/**
 * A `cl_secret` file rendered as Clace renders it: Go's template language with `{params: <the container env>}` as
 * data (`{{ .params.KEY }}`, `{{ range $k, $v := .params }}`, `if`, `with`, `index`, `printf`, pipelines). A key with
 * no value is an error rather than Go's "<no value>", so a typo does not reach the container.
 */
export function renderTemplate(template: string, params: Readonly<Record<string, string>>, file: string): string {
  try {
    return renderGoTemplate(template, { params }, file);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    throw new EngineError("config-error", `cannot render secret template ${err.message}`, "", `fix line ${err.line} of ${file} (Go template syntax), or set the param it needs`);
  }
}

function resolveTemplate(spec: ContainerSpec, templatePath: string): string {
  if (isAbsolute(templatePath)) return templatePath;
  if (spec.image.kind === "build") {
    // The later context folder wins, as in the merged build context.
    for (const dir of [...spec.image.contextDirs].reverse()) {
      const p = join(dir, templatePath);
      if (existsSync(p)) return p;
    }
  }
  throw new EngineError("config-error", `secret template ${templatePath} was not found in the app`, "", "add the file or fix the cl_secret volume");
}

/** Work out each volume's bind string; renders secret files into `runDir/<appId>/`. */
export function planVolumes(spec: ContainerSpec, runDir: string, volumes: readonly VolumeSpec[] = spec.volumes): PlannedVolume[] {
  const out: PlannedVolume[] = [];
  for (const v of volumes) {
    switch (v.kind) {
      case "bind":
        out.push({ bind: `${v.hostPath}:${v.target}${v.readOnly ? ":ro" : ""}` });
        break;
      case "named": {
        const name = volumeName(spec.appId, v.name);
        out.push({ create: name, bind: `${name}:${v.target}${v.readOnly ? ":ro" : ""}` });
        break;
      }
      case "unnamed": {
        const name = volumeName(spec.appId, v.target);
        out.push({ create: name, bind: `${name}:${v.target}${v.readOnly ? ":ro" : ""}` });
        break;
      }
      case "secret": {
        const src = resolveTemplate(spec, v.templatePath);
        let text: string;
        try {
          // The runtime confined the template to the app folder and gave its real path; a link put in its place
          // since then (or on the way to it) is refused rather than followed.
          const real = realpathSync(src);
          if (real !== src) {
            throw new EngineError(
              "config-error",
              `secret template ${v.templatePath} now resolves through a symbolic link to ${real}`,
              "",
              "replace the link with the file itself, inside the app folder, then reload the app",
            );
          }
          text = readFileSync(src, "utf8");
        } catch (err) {
          if (err instanceof EngineError) throw err;
          throw new EngineError("config-error", `cannot read secret template ${src}: ${(err as Error).message}`);
        }
        const dir = join(runDir, spec.appId.replace(/[^A-Za-z0-9_.-]/g, "_"));
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const target = join(dir, `${basename(v.templatePath)}.gen`);
        writeFileSync(target, renderTemplate(text, spec.env, v.templatePath), { mode: 0o644 });
        out.push({ bind: `${target}:${v.target}:ro` });
        break;
      }
    }
  }
  return out;
}
