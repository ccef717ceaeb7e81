/** What `--approve` printed approval covers beyond plugins: the container's reach, one line per item. */
export function reachLines(reach: readonly string[], indent = "  "): string {
  if (reach.length === 0) return `${indent}container reach: its own image only (no mounts, volumes, secrets or widening options)\n`;
  return `${indent}container reach:\n${reach.map((r) => `${indent}  ${r}\n`).join("")}`;
}
