/** The process environment as the CLI reads it: passed in, so that tests give their own. */
export type Env = Readonly<Record<string, string | undefined>>;
