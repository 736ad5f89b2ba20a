// addons-linter ships no types; this is the part of its API the lint test uses.
declare module "addons-linter" {
  type Finding = { code: string; message: string; file?: string };
  const linter: {
    createInstance(opts: { config: Record<string, unknown>; runAsBinary: boolean }): {
      run(): Promise<{ errors: Finding[]; warnings: Finding[]; notices: Finding[] }>;
    };
  };
  export default linter;
}
