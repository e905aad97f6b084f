/** The input error of `rules`, in a light module the CLI can load before it knows which command runs. */

/** An input the rules command cannot use (a pf.conf that does not parse or read, a log of the wrong kind): one line. */
export class RulesInputError extends Error {
  override readonly name = 'RulesInputError';
}
