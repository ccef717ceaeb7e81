/**
 * What the runtime reads from a Containerfile/Dockerfile (parsed with dockerfile-ast, never with regexes): the port
 * from EXPOSE, as Clace does it (the first token of each EXPOSE parsed as an integer, the last parsable one wins; a
 * value like "8080/tcp" or "$PORT" is skipped), and the VOLUME targets.
 */
import type { DockerfileParser } from "dockerfile-ast";

export interface ContainerfileInfo {
  /** The last numeric EXPOSE, or 0 when there is none. */
  port: number;
  /** EXPOSE values that could not be read as a number (shown as a hint when no port is found). */
  skippedExpose: string[];
  /** Targets of VOLUME instructions, in order. */
  volumes: string[];
}

export function readContainerfile(content: string): ContainerfileInfo {
  // Loaded on first use: only apps with a container file need it, and it costs ~20 ms at start-up.
  const parser = (require("dockerfile-ast") as { DockerfileParser: typeof DockerfileParser }).DockerfileParser;
  const file = parser.parse(content);
  let port = 0;
  const skippedExpose: string[] = [];
  const volumes: string[] = [];
  for (const ins of file.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    if (keyword === "EXPOSE") {
      const first = ins.getArguments()[0]?.getValue();
      if (first === undefined) continue;
      if (/^[+-]?\d+$/.test(first) && Number(first) > 0 && Number(first) < 65536) port = Number(first);
      else skippedExpose.push(first);
    } else if (keyword === "VOLUME") {
      const content = ins.getArgumentsContent()?.trim() ?? "";
      if (content.startsWith("[")) {
        try {
          const parsed: unknown = JSON.parse(content);
          if (Array.isArray(parsed)) for (const p of parsed) if (typeof p === "string" && p !== "") volumes.push(p);
          continue;
        } catch {
          // not valid JSON: Docker then treats the text as space-separated paths
        }
      }
      for (const a of ins.getArguments()) volumes.push(a.getValue());
    }
  }
  return { port, skippedExpose, volumes };
}
