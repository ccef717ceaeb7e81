/**
 * The names the runtime predeclares in each kind of app file, for tools that check a file without running it
 * (`star check`). The loader binds values to these names; this says only which names exist.
 */
import { PARAM_TYPES } from "./params.ts";

/** app.star and the .star files it loads. */
export const APP_STAR_NAMES: readonly string[] = ["ace", "param", "struct"];

/** params.star: `param(...)`, `config`, and the type and display-type constants. */
export const PARAMS_STAR_NAMES: readonly string[] = ["param", "config", ...PARAM_TYPES, "PASSWORD", "TEXTAREA", "FILE"];
