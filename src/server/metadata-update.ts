/**
 * `app update-metadata`: what a change to an app's stored spec, app-config, container options, build args or
 * volumes means for its record, worked out apart from applying it (the host loads, approves and switches).
 *
 * The entries read as Clace reads them: `key=value` sets a key, `key=-` removes it, a container option may be a bare
 * name (a flag such as `read-only`), and volumes replace the whole list (`-` alone empties it). The spec is a name,
 * or `-` for none.
 */
import type { AppMetadata } from "../runtime/index.ts";
import { HostError } from "./types.ts";

/** The metadata the update commands change, as the admin API takes it (Clace's names). */
export type MetadataField = "spec" | "conf" | "copt" | "carg" | "cvol";

export const METADATA_FIELDS: readonly MetadataField[] = ["spec", "conf", "copt", "carg", "cvol"];

export interface MetadataUpdate {
  field: MetadataField;
  /** `spec`: one name or "-"; `cvol`: the new list, or ["-"]; the others: `key=value` / `key=-` entries. */
  entries: string[];
}

/** An app's changeable settings: its spec and the metadata the update commands write. */
export interface AppSettings {
  spec: string;
  metadata: AppMetadata;
}

const KEYED_FIELDS = { conf: "conf", copt: "copts", carg: "cargs" } as const;

/** Clace strips one pair of matching quotes from container values (not from app-config values). */
function stripQuotes(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1);
  return value;
}

function usage(message: string): HostError {
  return new HostError("usage", message);
}

/** The settings after the update; throws a usage error naming the entry that does not parse. */
export function applyMetadataUpdate(current: AppSettings, update: MetadataUpdate): AppSettings {
  const { field, entries } = update;
  if (!METADATA_FIELDS.includes(field)) throw usage(`unknown metadata ${JSON.stringify(field)}: use one of ${METADATA_FIELDS.join(", ")}`);
  if (entries.length === 0) throw usage(`no ${field} value given`);
  const metadata = current.metadata;
  switch (field) {
    case "spec": {
      if (entries.length !== 1) throw usage(`spec takes one name (or - for none), got ${entries.length} values`);
      const name = entries[0]!.trim();
      if (name === "") throw usage("the spec name is empty: give a spec name (see: clace-lite spec list), or - for none");
      return { spec: name === "-" ? "" : name, metadata };
    }
    case "cvol": {
      if (entries.length === 1 && entries[0]!.trim() === "-") return { spec: current.spec, metadata: { ...metadata, cvols: [] } };
      const cvols = entries.map((e) => e.trim());
      if (cvols.includes("-")) throw usage("cvol: - (no volumes) cannot be combined with volumes");
      if (cvols.includes("")) throw usage("cvol: a volume is empty");
      return { spec: current.spec, metadata: { ...metadata, cvols } };
    }
    default: {
      const key = KEYED_FIELDS[field];
      const next = { ...metadata[key] };
      for (const entry of entries) {
        const eq = entry.indexOf("=");
        // A container option may be a bare flag (`read-only`); everything else needs key=value.
        if (eq < 0 && field !== "copt") throw usage(`invalid ${field} ${JSON.stringify(entry)}: need key=value (key=- removes the key)`);
        const name = (eq < 0 ? entry : entry.slice(0, eq)).trim();
        if (name === "") throw usage(`invalid ${field} ${JSON.stringify(entry)}: the key is empty`);
        const raw = eq < 0 ? "" : entry.slice(eq + 1).trim();
        const value = field === "conf" ? raw : stripQuotes(raw);
        if (value === "-") {
          if (!(name in next)) throw usage(`${field} ${name} is not set, so it cannot be removed (set: ${Object.keys(next).join(", ") || "none"})`);
          delete next[name];
        } else {
          next[name] = value;
        }
      }
      return { spec: current.spec, metadata: { ...metadata, [key]: next } };
    }
  }
}

function showValue(value: string | undefined): string {
  return value === undefined ? "(not set)" : value === "" ? '""' : value;
}

/** What differs between two settings, one line per key, for people ("copt memory: (not set) -> 64m"). */
export function describeSettingsChange(before: AppSettings, after: AppSettings): string[] {
  const lines: string[] = [];
  if (before.spec !== after.spec) lines.push(`spec: ${before.spec || "(none)"} -> ${after.spec || "(none)"}`);
  for (const [field, key] of Object.entries(KEYED_FIELDS) as [keyof typeof KEYED_FIELDS, "conf" | "copts" | "cargs"][]) {
    const a = before.metadata[key];
    const b = after.metadata[key];
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[name] !== b[name]) lines.push(`${field} ${name}: ${showValue(a[name])} -> ${showValue(b[name])}`);
    }
  }
  const cvolsBefore = JSON.stringify(before.metadata.cvols);
  const cvolsAfter = JSON.stringify(after.metadata.cvols);
  if (cvolsBefore !== cvolsAfter) {
    const show = (list: string[]) => (list.length ? list.join(" ") : "(none)");
    lines.push(`cvol: ${show(before.metadata.cvols)} -> ${show(after.metadata.cvols)}`);
  }
  const params = (m: AppMetadata) => m.params;
  for (const name of [...new Set([...Object.keys(params(before.metadata)), ...Object.keys(params(after.metadata))])].sort()) {
    const a = params(before.metadata)[name];
    const b = params(after.metadata)[name];
    if (a !== b) lines.push(`param ${name}: ${showValue(a)} -> ${showValue(b)}`);
  }
  return lines;
}
