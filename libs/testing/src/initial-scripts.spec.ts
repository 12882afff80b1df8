import { describe, expect, it } from 'vitest';
import { initialScripts, scriptFile } from './initial-scripts.js';

describe('initialScripts', () => {
  it("lists a Vite build's entry and its module preloads, not its stylesheet", () => {
    const html = `<!doctype html>
<html lang="en">
  <head>
    <script type="module" crossorigin src="./assets/index-ycM2241K.js"></script>
    <link rel="modulepreload" crossorigin href="./assets/react-B1x2.js">
    <link rel="stylesheet" crossorigin href="./assets/index-Cos_GP2k.css">
    <link rel="icon" href="data:," />
  </head>
  <body><div id="root"></div></body>
</html>`;
    expect(initialScripts(html)).toEqual(['./assets/index-ycM2241K.js', './assets/react-B1x2.js']);
  });

  it('takes classic, async and deferred scripts and script preloads, in document order, once each', () => {
    const html = `<link rel="preload" as="script" href="a.js"><script src='b.js' defer></script>
<SCRIPT SRC=c.js async></SCRIPT><script src="a.js"></script><link rel="preload" as="style" href="s.css">`;
    expect(initialScripts(html)).toEqual(['a.js', 'b.js', 'c.js']);
  });

  it('skips inline scripts, nomodule fallbacks, data blocks and commented-out tags', () => {
    const html = `<script>window.x = 1</script>
<script nomodule src="legacy.js"></script>
<script type="application/json" src="data.json"></script>
<script type="importmap">{}</script>
<!-- <script src="old.js"></script> -->
<script data-note="a > b" src="real.js"></script>`;
    expect(initialScripts(html)).toEqual(['real.js']);
  });

  it('decodes entities in attribute values', () => {
    expect(initialScripts('<script src="a.js?x=1&amp;y=2"></script>')).toEqual(['a.js?x=1&y=2']);
  });
});

describe('scriptFile', () => {
  it('resolves same-origin references to a path under the page directory', () => {
    expect(scriptFile('./assets/a.js')).toBe('assets/a.js');
    expect(scriptFile('/assets/a.js')).toBe('assets/a.js');
    expect(scriptFile('assets/a.js?v=1#x')).toBe('assets/a.js');
  });

  it('refuses other origins and paths outside the directory', () => {
    expect(() => scriptFile('https://cdn.example/a.js')).toThrow(/elsewhere/);
    expect(() => scriptFile('//cdn.example/a.js')).toThrow(/elsewhere/);
    expect(() => scriptFile('../a.js')).toThrow(/outside/);
  });
});
