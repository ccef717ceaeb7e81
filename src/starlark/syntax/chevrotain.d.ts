// "chevrotain" resolves to the package's one-file build (tsconfig.json `paths`), which carries no types of its own:
// its types are the package's declaration file.
declare module "chevrotain" {
  export * from "chevrotain-types";
}
