// Browser bundles. `tsc -p tsconfig.build.json` already writes the ES modules with their types
// (dist/index.js, dist/define.js, ...), which is what bundler users import. Rollup adds:
//  - dist/session-sync.min.js: one self-contained, minified file with Lit inside, for
//    `<script type="module" src=...>` from a CDN, no build step;
//  - dist/session-sync.js: the same entry as one ES module with Lit left as an import, for
//    pages with an import map that already load Lit.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

const input = 'src/define.ts';

// Terser leaves template literals alone: squeeze the whitespace out of our one stylesheet.
// (No selector of ours needs a space before a colon, so that space can go too.)
const minifyStyles = () => ({
  name: 'minify-styles',
  transform(code, id) {
    if (!id.endsWith('/src/element/styles.ts')) return null;
    return code.replace(/css`([^`]*)`/, (_, text) => {
      const squeezed = text
        .replace(/\s+/g, ' ')
        .replace(/\s*([{}:;,>])\s*/g, '$1')
        .replace(/;}/g, '}')
        .replace(/\b0\./g, '.');
      return `css\`${squeezed.trim()}\``;
    });
  },
});
const typescript = () => esbuild({ target: 'es2021', tsconfig: 'tsconfig.json' });

export default [
  {
    input,
    plugins: [nodeResolve({ exportConditions: ['production'] }), minifyStyles(), typescript()],
    output: {
      file: 'dist/session-sync.min.js',
      format: 'es',
      plugins: [
        terser({
          ecma: 2021,
          module: true,
          compress: { passes: 2 },
          // Our private members start with `_` and a letter; Lit's own are already mangled to
          // `_$xx` names, which this pattern leaves alone.
          mangle: { properties: { regex: /^_[A-Za-z]/ } },
          format: { comments: false },
        }),
      ],
    },
  },
  {
    input,
    external: [/^lit/, /^@lit\//],
    plugins: [typescript()],
    output: { file: 'dist/session-sync.js', format: 'es' },
  },
];
