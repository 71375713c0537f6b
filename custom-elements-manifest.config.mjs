// Generates custom-elements.json (the manifest editors and catalogues read) from the TSDoc of
// the element. `npm run build` runs it; package.json's `customElements` already points here.
export default {
  globs: ['src/element/session-sync.ts', 'src/define.ts'],
  outdir: '.',
  litelement: true,
  // package.json is kept by hand; the analyzer would otherwise rewrite it on every build.
  packagejson: false,
};
