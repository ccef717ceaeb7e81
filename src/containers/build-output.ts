/**
 * The build output people see. Labels go to the engine with the build request, and both Docker's classic builder
 * ("Step i/M : ...") and Podman's ("STEP i/M: ...") turn each into a `LABEL` step of its own appended to the container
 * file: for an app with five labels that is five steps of noise, about half the log of a small build. This filter
 * drops those steps with the lines that belong to them and counts them out of "Step i/M".
 */

const STEP = /^(Step|STEP) (\d+)\/(\d+)( ?: )(.*)$/;

export class BuildOutputFilter {
  private skipping = false;

  constructor(private readonly labelKeys: readonly string[]) {}

  private isOurLabel(body: string): boolean {
    return body.startsWith("LABEL ") && this.labelKeys.some((k) => body.startsWith(`LABEL ${k}=`) || body.startsWith(`LABEL "${k}"=`));
  }

  /** The line to show, or null for a line of an injected label step. */
  line(line: string): string | null {
    const step = STEP.exec(line);
    if (step) {
      const [, word, index, count, separator, body] = step as unknown as [string, string, string, string, string, string];
      this.skipping = this.isOurLabel(body);
      if (this.skipping) return null;
      const total = Number(count) - this.labelKeys.length;
      return total >= Number(index) ? `${word} ${index}/${total}${separator}${body}` : line;
    }
    // The lines of a step ("---> Running in", "Removing intermediate container", "--> <id>") until the next one;
    // the closing "COMMIT" and "Successfully built/tagged" lines always show.
    if (this.skipping && !line.startsWith("Successfully") && !line.startsWith("COMMIT")) return null;
    this.skipping = false;
    return line;
  }
}
