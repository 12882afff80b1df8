/**
 * The JavaScript files a page loads before any code of its own runs, read from its HTML: every
 * `<script src>` a current browser executes (classic or module; `nomodule` and non-JavaScript types
 * are skipped) and every `<link rel="modulepreload">` or `<link rel="preload" as="script">`. Chunks
 * the code imports later (dynamic `import()`) are not in the HTML and not counted.
 *
 * Returns the references as written, first occurrence first, without duplicates.
 */
export function initialScripts(html: string): string[] {
  const text = html.replace(/<!--[\s\S]*?-->/g, '');
  const found: string[] = [];
  const add = (ref: string | undefined) => {
    if (ref && !found.includes(ref)) found.push(ref);
  };
  for (const tag of text.matchAll(/<(script|link)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi)) {
    const attrs = attributes(tag[2] ?? '');
    if (tag[1]!.toLowerCase() === 'script') {
      if (attrs.has('nomodule') || !JS_TYPES.has((attrs.get('type') ?? '').trim().toLowerCase())) continue;
      add(attrs.get('src'));
    } else {
      const rel = (attrs.get('rel') ?? '').toLowerCase().split(/\s+/);
      if (rel.includes('modulepreload') || (rel.includes('preload') && (attrs.get('as') ?? '').toLowerCase() === 'script')) add(attrs.get('href'));
    }
  }
  return found;
}

const JS_TYPES = new Set(['', 'module', 'text/javascript', 'application/javascript', 'text/ecmascript', 'application/ecmascript']);

function attributes(source: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of source.matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

function decodeEntities(value: string): string {
  return value.replace(/&(amp|quot|#39|apos|lt|gt);/g, (_, e: string) => ({ amp: '&', quot: '"', '#39': "'", apos: "'", lt: '<', gt: '>' })[e]!);
}

/**
 * The file a same-origin script reference points to, relative to the HTML file's directory
 * (`./assets/a.js`, `assets/a.js?v=1` and `/assets/a.js` → `assets/a.js`, for a page served from the
 * root). A reference to another origin throws: its size cannot be read from the build.
 */
export function scriptFile(ref: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//')) throw new Error(`script from elsewhere: ${ref}`);
  const path = ref.replace(/[?#].*$/, '').replace(/^(\.\/|\/)+/, '');
  if (path.split('/').includes('..')) throw new Error(`script outside the page's directory: ${ref}`);
  return path;
}
