/**
 * The build output people see. Labels go to the engine with the build request, and Docker's classic builder turns
 * each into a `LABEL` step of its own appended to the container file: for an app with five labels that is five
 * steps of noise (about half the log of a small build). This filter drops those steps with the lines that belong
 * to them and counts them out of "Step i/M". Podman applies the labels without steps ("STEP i/M:"), so its output
 * passes through unchanged.
 */

const DOCKER_STEP = /^Step (\d+)\/(\d+) : (.*)$/;

export class BuildOutputFilter {
  private skipping = false;

  constructor(private readonly labelKeys: readonly string[]) {}

  /** The line to show, or null for a line of an injected label step. */
  line(line: string): string | null {
    const step = DOCKER_STEP.exec(line);
    if (step) {
      const body = step[3]!;
      this.skipping = body.startsWith("LABEL ") && this.labelKeys.some((k) => body.startsWith(`LABEL ${k}=`));
      if (this.skipping) return null;
      const total = Number(step[2]) - this.labelKeys.length;
      return total >= Number(step[1]) ? `Step ${step[1]}/${total} : ${body}` : line;
    }
    // The lines of a step ("---> Running in", "Removing intermediate container", "---> <id>") until the next one;
    // the closing "Successfully built/tagged" lines always show.
    if (this.skipping && !line.startsWith("Successfully")) return null;
    this.skipping = false;
    return line;
  }
}
