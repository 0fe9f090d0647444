// Exit codes are a contract (DESIGN.md): 0 ok, 1 the check found a difference, 2 bad input or
// failure to run. Errors are one line naming what and where.
export const EXIT_OK = 0;
export const EXIT_DIFFERENCE = 1;
export const EXIT_FAILURE = 2;

/** Thrown inside commands for bad input or failure; the CLI prints `npg: <message>` and exits 2. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}
