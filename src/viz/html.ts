/**
 * One self-contained HTML page that renders every machine's statechart, offline.
 * Invariants: the page fetches nothing (mermaid's browser bundle is inlined when the page is
 * generated, and its Content-Security-Policy forbids every remote load); the same machines give
 * the same bytes; a diagram that fails to render says so on the page and on the console, never a
 * silent blank. Status for tests and people: `<body data-keel-viz="rendered|failed">`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AnyStateMachine } from 'xstate';
import { toMermaid } from './mermaid.js';
import { outlineMachine, type MachineOutline } from './outline.js';

export interface HtmlPageOptions {
  /** Page title and heading. */
  title?: string;
}

const require = createRequire(import.meta.url);

let cachedBundle: { script: string; version: string } | undefined;

/**
 * Mermaid's browser bundle, made safe to inline: `<\/script` or `<!--` inside it would end or
 * confuse the script element, so `<` there becomes `\x3C`, which means the same in every JS string,
 * template and regular expression where such text can occur.
 */
export function mermaidBundle(): { script: string; version: string } {
  if (cachedBundle === undefined) {
    const source = readFileSync(require.resolve('mermaid/dist/mermaid.min.js'), 'utf8');
    const manifest = JSON.parse(readFileSync(require.resolve('mermaid/package.json'), 'utf8')) as {
      version: string;
    };
    cachedBundle = {
      script: source.replace(/<(?=\/?script|!--)/gi, '\\x3C'),
      version: manifest.version,
    };
  }
  return cachedBundle;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON inside a `<script>` element: `<` escaped so no `</script>` can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:";

const STYLE = `
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #3b4cca; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink); background: #f5f7fa; }
header, main > section, nav { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0; font-size: 20px; }
p { margin: 4px 0; }
code { font: 13px/1.4 ui-monospace, 'SFMono-Regular', Menlo, monospace; }
.lede { color: var(--muted); }
nav table, .states { border-collapse: collapse; margin: 12px 0; background: #fff; }
nav th, nav td, .states th, .states td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
nav td.number { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); }
main > section { margin: 24px auto; padding: 20px 24px; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
.counts { color: var(--muted); }
.toolbar { margin: 8px 0; }
.toolbar button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; }
.diagram { overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: 12px; min-height: 80px; }
.diagram:not(.fit) { max-height: 85vh; }
.diagram.fit svg { max-width: 100%; height: auto; }
.diagram[data-status='failed'] { color: #b42318; white-space: pre-wrap; }
details { margin-top: 10px; }
summary { cursor: pointer; color: var(--muted); }
pre { overflow: auto; background: #f5f7fa; padding: 12px; border-radius: 6px; }
.empty { color: var(--muted); font-style: italic; }
`;

// Runs in the page: renders each diagram into its container and reports the outcome on <body>.
const RENDER_SCRIPT = `
(async () => {
  const diagrams = JSON.parse(document.getElementById('keel-diagrams').textContent);
  mermaid.initialize({
    startOnLoad: false,
    securityLevel: 'strict',
    theme: 'default',
    fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    state: { useMaxWidth: false },
  });
  let failed = 0;
  for (const [index, diagram] of diagrams.entries()) {
    const container = document.querySelector('[data-diagram-index="' + index + '"]');
    try {
      const { svg } = await mermaid.render('keel-diagram-' + index, diagram.source);
      container.innerHTML = svg;
      container.dataset.status = 'rendered';
    } catch (error) {
      failed += 1;
      const message = error instanceof Error ? error.message : String(error);
      container.dataset.status = 'failed';
      container.textContent = 'Could not render ' + diagram.name + ': ' + message;
      console.error('keel viz: could not render ' + diagram.name + ': ' + message);
    }
  }
  for (const button of document.querySelectorAll('button[data-fit]')) {
    button.addEventListener('click', () => {
      const fitted = button.closest('section').querySelector('.diagram').classList.toggle('fit');
      button.textContent = fitted ? 'Actual size' : 'Fit to width';
    });
  }
  document.body.dataset.keelViz = failed === 0 ? 'rendered' : 'failed';
})();
`;

function statesTable(outline: MachineOutline): string {
  const rows = outline.states.map((state) => {
    const effects = [
      ...(state.entry.length > 0 ? [`entry / ${state.entry.join(', ')}`] : []),
      ...(state.exit.length > 0 ? [`exit / ${state.exit.join(', ')}`] : []),
    ];
    return `<tr><td><code>${escapeHtml(state.path.join('.'))}</code></td><td>${state.type}</td><td>${escapeHtml(
      state.tags.join(', '),
    )}</td><td>${escapeHtml(state.description ?? '')}</td><td>${escapeHtml(effects.join('; '))}</td></tr>`;
  });
  return `<table class="states"><thead><tr><th>State</th><th>Type</th><th>Tags</th><th>Description</th><th>Entry and exit</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/**
 * The page: a table of contents with each machine's state and transition counts, then one section
 * per machine with its rendered diagram, a states table and the Mermaid source.
 * @example
 *   writeFileSync('keel-machines.html', renderHtmlPage(canonicalMachines));
 */
export function renderHtmlPage(
  machines: Readonly<Record<string, AnyStateMachine>>,
  options: HtmlPageOptions = {},
): string {
  const title = options.title ?? 'keel statecharts';
  const bundle = mermaidBundle();
  const entries = Object.entries(machines).map(([name, machine]) => {
    const outline = outlineMachine(machine);
    return { name, outline, source: toMermaid(machine) };
  });

  const contents = entries.map(
    ({ name, outline }) =>
      `<tr><td><a href="#machine-${escapeHtml(name)}">${escapeHtml(name)}</a></td><td class="number">${
        outline.states.length
      }</td><td class="number">${outline.transitions.length}</td></tr>`,
  );
  const sections = entries.map(({ name, outline, source }, index) =>
    [
      `<section class="machine" id="machine-${escapeHtml(name)}" data-machine="${escapeHtml(name)}">`,
      `<h2>${escapeHtml(name)}</h2>`,
      outline.description === undefined
        ? ''
        : `<p class="description">${escapeHtml(outline.description)}</p>`,
      `<p class="counts">${outline.states.length} states · ${outline.transitions.length} transitions</p>`,
      '<div class="toolbar"><button type="button" data-fit>Actual size</button></div>',
      `<div class="diagram fit" data-diagram-index="${index}" data-status="pending" role="img" aria-label="Statechart of ${escapeHtml(name)}"></div>`,
      `<details><summary>States</summary>${statesTable(outline)}</details>`,
      `<details><summary>Mermaid source</summary><pre><code>${escapeHtml(source)}</code></pre></details>`,
      '</section>',
    ]
      .filter((line) => line !== '')
      .join('\n'),
  );

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="generator" content="keel viz">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body data-keel-viz="pending">
<header>
<h1>${escapeHtml(title)}</h1>
<p class="lede">Generated by <code>keel viz --format html</code> from the machine definitions; regenerate it after changing a machine. Rendered in this page, offline, by Mermaid ${escapeHtml(bundle.version)}.</p>
</header>
<nav>
${
  entries.length === 0
    ? '<p class="empty">No machines are registered yet.</p>'
    : `<table><thead><tr><th>Machine</th><th>States</th><th>Transitions</th></tr></thead><tbody>\n${contents.join('\n')}\n</tbody></table>`
}
</nav>
<main>
${sections.join('\n')}
</main>
<script type="application/json" id="keel-diagrams">${scriptJson(entries.map(({ name, source }) => ({ name, source })))}</script>
<script>${bundle.script}</script>
<script>${RENDER_SCRIPT}</script>
</body>
</html>
`;
}
