/**
 * App locations (`[domain:]path`) and app globs, with Clace's rules:
 * `/x` lives in the default domain, `domain:/x` in that domain, `sub.:/x` in `sub.<default domain>`;
 * two apps may not overlap (one path a prefix of the other on segment boundaries) in the same domain;
 * globs use `*` (one segment), `**` (any segments) and `all` (every app).
 */

export interface AppLocation {
  /** "" means the server's default domain. */
  domain: string;
  /** "/" or "/a/b" (no trailing slash). */
  path: string;
}

/** Path prefixes the server keeps for itself. */
export const RESERVED_PATH_PREFIX = "/_clace_lite";

const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const DOMAIN = /^[A-Za-z0-9.-]+$/;

export class AppPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AppPathError";
  }
}

/** Parses what the user typed (`/x`, `example.com:/x`, `sub.:/x`). */
export function parseAppLocation(text: string, defaultDomain: string): AppLocation {
  const colon = text.indexOf(":");
  let domain = colon >= 0 ? text.slice(0, colon) : "";
  let path = colon >= 0 ? text.slice(colon + 1) : text;
  if (domain.endsWith(".")) domain += defaultDomain;
  domain = domain.toLowerCase();
  if (domain === defaultDomain.toLowerCase()) domain = "";
  if (domain && !DOMAIN.test(domain)) throw new AppPathError(`invalid domain "${domain}" in "${text}": use letters, digits, dots and dashes`);
  if (!path.startsWith("/")) throw new AppPathError(`invalid app path "${text}": the path must start with "/", e.g. /${path || "app"} or example.com:/${path}`);
  if (path.length > 1 && path.endsWith("/")) path = path.replace(/\/+$/, "");
  if (path !== "/") {
    for (const segment of path.slice(1).split("/")) {
      if (!SEGMENT.test(segment)) throw new AppPathError(`invalid app path "${text}": segment "${segment}" may only use letters, digits and . _ ~ -`);
      if (segment.includes("_cl_")) throw new AppPathError(`invalid app path "${text}": "_cl_" is reserved in path segments`);
    }
    if (path === RESERVED_PATH_PREFIX || path.startsWith(RESERVED_PATH_PREFIX + "/")) {
      throw new AppPathError(`invalid app path "${text}": ${RESERVED_PATH_PREFIX} is reserved for the server`);
    }
  }
  return { domain, path };
}

export function formatAppLocation(location: AppLocation): string {
  return location.domain ? `${location.domain}:${location.path}` : location.path;
}

/** True when one app would shadow the other: same domain and one path contains the other. */
export function locationsOverlap(a: AppLocation, b: AppLocation): boolean {
  if (a.domain !== b.domain) return false;
  return isPathWithin(a.path, b.path) || isPathWithin(b.path, a.path);
}

/** True when `path` equals `prefix` or lies below it on a segment boundary. */
export function isPathWithin(path: string, prefix: string): boolean {
  if (prefix === "/") return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* "/" */);
}

/** Compiles an app glob (`/x/*`, `example.com:**`, `*:**`, `all`) into a matcher over locations. */
export function compileAppGlob(glob: string, defaultDomain: string): (location: AppLocation) => boolean {
  if (glob === "all") glob = "*:**";
  const colon = glob.indexOf(":");
  let domainGlob = colon >= 0 ? glob.slice(0, colon) : "";
  const pathGlob = colon >= 0 ? glob.slice(colon + 1) : glob;
  if (domainGlob.endsWith(".")) domainGlob += defaultDomain;
  if (domainGlob.toLowerCase() === defaultDomain.toLowerCase()) domainGlob = "";
  const domainRe = domainGlob === "*" ? /^.*$/ : new RegExp(`^${globToRegex(domainGlob.toLowerCase(), ".")}$`);
  const pathRe = new RegExp(`^${globToRegex(pathGlob.length > 1 ? pathGlob.replace(/\/+$/, "") : pathGlob, "/")}$`);
  return (location) => domainRe.test(location.domain) && pathRe.test(location.path);
}

function globToRegex(glob: string, separator: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*" && glob[i + 1] === "*") {
      // "/**" also matches the parent itself ("/x/**" matches "/x").
      if (out.endsWith("\\/")) out = out.slice(0, -2) + "(?:\\/.*)?";
      else out += ".*";
      i++;
    } else if (ch === "*") {
      out += `[^${separator === "/" ? "\\/" : "\\."}]*`;
    } else {
      out += ch.replace(/[.+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return out;
}
