// Types for scripts/build.mjs (imported by the benchmarks, which are TypeScript).
export declare const root: string;
export declare const distDir: string;
export declare function sourceHash(): string;
export declare function staleReason(hash?: string): string | undefined;
export declare function build(hash?: string): void;
export declare function ensureBuilt(options?: { log?: (message: string) => void }): string;
export declare function serveArgs(entry: string): string[];
