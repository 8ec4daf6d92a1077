// Types of lua/build.mjs, for the TypeScript that imports it (the layout test).

/** The modules of the core, in the order the build concatenates them. */
export declare const MODULES: readonly string[];
/** The line of api.lua that the generated lookups replace. */
export declare const REGISTRY_MARKER: string;

/** Raised when the sources do not add up; `problems` lists each one. */
export declare class CoreLayoutError extends Error {
  readonly problems: string[];
}

/** What the sources define: helper → its load_* group, command → its maker, both lists in source order. */
export interface CoreRegistry {
  helpers: Map<string, string>;
  commands: Map<string, string>;
  loaders: string[];
  makers: string[];
}

/** Lua text with comments and string contents blanked (same length), and the string literals with their lines. */
export declare function scanLua(text: string): { code: string; strings: Array<{ line: number; value: string }> };
export declare function analyseCore(sources: Map<string, string>): CoreRegistry;
export declare function registryLua(registry: CoreRegistry): string;
export declare function readCoreSources(dir?: string): Promise<Map<string, string>>;
export declare function buildCoreScript(sources?: Map<string, string>): Promise<string>;
