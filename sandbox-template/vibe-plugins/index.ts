export { lightView, type LightViewOptions } from './light-view.ts';
export { lightBuild, lightBuildChild } from './light-build.ts';
export { lucideIcons, rewriteLucideImports, readLucideIconIndex } from './lucide-icons.ts';
export { devCompression } from './dev-compression.ts';
export { LightSite } from './light-site.ts';
export type { BuildMessage } from './build-message.ts';
export { sourceGuard } from './source-guard.ts';
export { errorReporter } from './error-reporter.ts';
export { devFreshness } from './dev-freshness.ts';
