// Lint is where DESIGN.md's layering is enforced: each layer may import only the layers
// below it, and the pure layers (domain, machines) may not touch time or randomness.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layers = [
  'domain',
  'ports',
  'machines',
  'actors',
  'adapters',
  'config',
  'daemon',
  'cli',
  'viz',
  'chaos',
];

/** Relative-import patterns that reach into the named layers, from anywhere under src/. */
function forbidLayers(names, message) {
  return names.map((name) => ({ group: [`**/${name}/*`, `**/${name}`, `../${name}/*`], message }));
}

/** A regex pattern that forbids every bare (package) import except the listed ones. */
function onlyPackages(allowed, message) {
  const allow = allowed.map((name) => `${name.replace('/', '\\/')}(\\/.*)?$`).join('|');
  return { regex: `^(?!\\.|${allow})`, message };
}

const pureGlobals = [
  { name: 'setTimeout', message: 'Time enters pure layers as events (TICK { now }) or xstate delays.' },
  { name: 'setInterval', message: 'Time enters pure layers as events (TICK { now }) or xstate delays.' },
  { name: 'setImmediate', message: 'Pure layers schedule nothing.' },
  { name: 'process', message: 'Pure layers read no environment; configuration is passed in.' },
];
const pureProperties = [
  { object: 'Date', property: 'now', message: 'Read time from the clock seam, not the wall clock.' },
  {
    object: 'Math',
    property: 'random',
    message: 'Randomness enters through the id functions or a seeded source.',
  },
  { object: 'crypto', property: 'randomUUID', message: 'Ids come from the domain id functions.' },
];
const pureSyntax = [
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'new Date() reads the wall clock; pass the time in.',
  },
];

function layerRule(layer, allowedLayers, allowedPackages) {
  const forbidden = layers.filter((name) => name !== layer && !allowedLayers.includes(name));
  const patterns = forbidLayers(
    forbidden,
    `src/${layer} may import only: ${allowedLayers.join(', ') || 'nothing'} (DESIGN.md layering).`,
  );
  if (allowedPackages) {
    patterns.push(
      onlyPackages(
        allowedPackages,
        `src/${layer} may import only these packages: ${allowedPackages.join(', ')}.`,
      ),
    );
  }
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/**', 'test-results/**', '.keel/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  layerRule('domain', [], ['zod', 'nanoid']),
  layerRule('ports', ['domain'], ['xstate']),
  layerRule('machines', ['domain'], ['xstate']),
  layerRule('actors', ['machines', 'ports', 'domain']),
  layerRule('adapters', ['ports', 'domain']),
  {
    files: ['src/domain/**/*.ts', 'src/machines/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...pureGlobals],
      'no-restricted-properties': ['error', ...pureProperties],
      'no-restricted-syntax': ['error', ...pureSyntax],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
