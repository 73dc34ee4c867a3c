/** The crash test's verdicts are keel chaos's checker; the crash test imports them from here. */
export * from '../../src/chaos/truth.js';
