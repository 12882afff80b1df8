/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startReplicationGroup, startTcpProxy, waitFor } from '../libs/testing/src/index.js';
import { axeViolations, type ConsolePage, launchChromium, openConsole, scrollsSideways } from './support/browser.js';
import { ADMIN_TOKEN, type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, createWatchedCluster, events, startAgentProcess, waitForEvent } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;
const UI_TIMEOUT = 15_000;

/**
 * The console in a real Chromium against a real controller, three agent processes and real
 * redis-server groups: what an on-call engineer sees and does, with faults injected for real.
 */
describe('web console', () => {
  let controller: TestController;
  let api: Api;
  let browser: Browser;
  let viewerToken: string;
  let operatorToken: string;
  const agents: AgentProcess[] = [];
  const servers: RedisServer[] = [];
  const pages: ConsolePage[] = [];
  const groups: Record<string, RedisServer[]> = {};
  const cleanups: (() => Promise<void>)[] = [];

  async function open(options: Parameters<typeof openConsole>[2] = {}): Promise<ConsolePage> {
    const p = await openConsole(browser, controller.url, options);
    pages.push(p);
    return p;
  }

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { AGENT_STALE_AFTER_MS: '1000' });
    api = controller.api;
    const agentToken = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    viewerToken = (await api('POST', '/api/v1/tokens', { body: { name: 'night-viewer', role: 'viewer' } })).body.token;
    operatorToken = (await api('POST', '/api/v1/tokens', { body: { name: 'on-call', role: 'operator' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, agentToken, controller.url, { PROBE_INTERVAL_MS: '100' }));
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    for (const name of ['checkout', 'orders', 'billing']) {
      const group = await startReplicationGroup(2);
      servers.push(...group);
      groups[name] = group;
      await createWatchedCluster(
        api,
        name,
        group.map((s, i) => ({ host: s.host, port: s.port, priority: 10 + i, zone: `zone-${'abc'[i]}` })),
        DOWN_AFTER_MS,
      );
    }
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await Promise.all(pages.map((p) => p.context.close().catch(() => undefined)));
    await Promise.all(cleanups.map((c) => c()));
    await browser?.close();
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('signs in with a token; the overview lists every cluster; a viewer sees who they are and no enabled action', async () => {
    const { page, errors } = await open();
    await page.fill('#token', 'not-a-token-at-all');
    await page.click('button[type=submit]');
    await page.getByRole('alert').filter({ hasText: '401' }).waitFor({ timeout: UI_TIMEOUT });

    await page.fill('#token', viewerToken);
    await page.click('button[type=submit]');
    await page.getByTestId('whoami').filter({ hasText: 'night-viewer · viewer' }).waitFor({ timeout: UI_TIMEOUT });
    const rows = page.locator('table.clusters tbody tr');
    await expect.poll(() => rows.count(), { timeout: UI_TIMEOUT }).toBe(3);
    for (const name of ['checkout', 'orders', 'billing']) expect(await rows.filter({ hasText: name }).count()).toBe(1);
    await expect.poll(() => rows.filter({ hasText: 'OK' }).count(), { timeout: UI_TIMEOUT }).toBe(3);

    // Filters live in the URL.
    await page.fill('#search', 'ord');
    await expect.poll(() => rows.count()).toBe(1);
    expect(page.url()).toContain('q=ord');

    await page.click('a:text-is("orders")');
    await page.getByTestId('topology-master').waitFor({ timeout: UI_TIMEOUT });
    const actions = page.getByRole('group', { name: 'Actions' }).getByRole('button');
    expect(await actions.count()).toBe(3);
    for (const button of await actions.all()) expect(await button.isDisabled()).toBe(true);
    await page.getByText('Needs the operator role; you are signed in as viewer.').waitFor();

    await page.click('a:text-is("Admin")');
    await page.getByText('Needs the admin role').waitFor();
    // The browser itself logs the refused sign-in; nothing else may be logged.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/401/);
  });

  it('shows a master crash live, without a reload: the ODOWN with every vote, the failover, then the new master and its phases', async () => {
    const [master, preferred] = groups['checkout']!;
    const ui = await open({ token: operatorToken, path: '#/clusters/checkout' });
    const { page } = ui;
    await page
      .getByTestId('topology-master')
      .filter({ hasText: `127.0.0.1:${master!.port}` })
      .waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('agent-matrix').waitFor();
    mkdirSync('docs', { recursive: true });

    master!.signal('SIGKILL');
    const timeline = page.getByTestId('timeline');
    const odown = timeline.locator('li').filter({ hasText: 'node.odown' });
    await odown.first().waitFor({ timeout: UI_TIMEOUT });
    // Each agent's vote, against the quorum.
    expect(await odown.first().locator('.votes li').count()).toBe(3);
    const stated = /(\d) of 3 voting agents see it down \(quorum 2/.exec((await odown.first().textContent()) ?? '');
    expect(stated).not.toBeNull();
    expect(Number(stated![1])).toBeGreaterThanOrEqual(2);
    expect(await odown.first().locator('.votes li.vote-down').count()).toBe(Number(stated![1]));
    await timeline.locator('li').filter({ hasText: 'failover.started' }).first().waitFor({ timeout: UI_TIMEOUT });
    await page
      .getByTestId('topology-master')
      .filter({ hasText: `127.0.0.1:${preferred!.port}` })
      .waitFor({ timeout: UI_TIMEOUT });
    await timeline.locator('li').filter({ hasText: 'failover.succeeded' }).first().waitFor({ timeout: UI_TIMEOUT });

    const history = page.getByTestId('failover-history');
    await history.getByRole('button').filter({ hasText: 'succeeded' }).first().click();
    const detail = page.getByTestId('failover-detail');
    await detail.locator('.phase-bar').waitFor({ timeout: UI_TIMEOUT });
    const phases = await detail.locator('.phase-legend li').allTextContents();
    expect(phases.map((p) => p.split(':')[0]!.trim())).toEqual(['detect', 'decide', 'promote', 'publish', 're-point']);
    expect(await detail.locator('table.steps tbody tr').count()).toBeGreaterThanOrEqual(8);
    expect(ui.navigations()).toBe(0);
    // The picture for the README: once the agents' readings show the new master settled.
    await page.getByTestId('topology-master').locator('.flags').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await page.setViewportSize({ width: 1280, height: 1200 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: 'docs/console-cluster.png', fullPage: false });
    expect(ui.errors).toEqual([]);
  });

  it('switches over from the UI after a dry-run ranking, shows the new master, and loses no acknowledged write', async () => {
    const [master, , second] = groups['orders']!;
    const ui = await open({ token: operatorToken, path: '#/clusters/orders' });
    const { page } = ui;
    await page
      .getByTestId('topology-master')
      .filter({ hasText: `127.0.0.1:${master!.port}` })
      .waitFor({ timeout: UI_TIMEOUT });

    const writer = master!.client();
    writer.on('error', () => undefined);
    await writer.connect();
    const acked: string[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        try {
          if ((await writer.set(`sw:${i}`, String(i))) === 'OK') acked.push(`sw:${i}`);
        } catch {
          // READONLY once the old master steps down: not acknowledged
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    })();
    await waitFor(async () => acked.length > 50, 5000, 'writes to flow');

    await page.getByRole('button', { name: 'Switchover…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Rank the replicas (dry run)' }).click();
    await dialog.getByText('best').waitFor({ timeout: UI_TIMEOUT });
    await dialog.getByRole('radio', { name: new RegExp(`:${second!.port}`) }).check();
    await dialog.getByRole('button', { name: 'Switch over' }).click();
    const outcome = dialog.getByTestId('action-outcome');
    await outcome.waitFor({ timeout: 30_000 });
    expect(await outcome.textContent()).toContain('succeeded');
    writing = false;
    await writes;
    writer.disconnect();

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Focus returns to the button that opened the dialog.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Switchover…');
    await page
      .getByTestId('topology-master')
      .filter({ hasText: `127.0.0.1:${second!.port}` })
      .waitFor({ timeout: UI_TIMEOUT });

    const reader = second!.client();
    await reader.connect();
    const values = acked.length > 0 ? await reader.mget(...acked) : [];
    reader.disconnect();
    const lost = acked.filter((_, i) => values[i] === null);
    expect(acked.length).toBeGreaterThan(50);
    expect(lost).toEqual([]);
    expect(ui.errors).toEqual([]);
  });

  it('with maintenance on, a master crash is refused and the console says why, on the cluster and in the banner', async () => {
    const [master] = groups['billing']!;
    const ui = await open({ token: operatorToken, path: '#/clusters/billing' });
    const { page } = ui;
    await page.getByTestId('topology-master').waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('button', { name: 'Start maintenance…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('kernel upgrade in zone a');
    await dialog.getByRole('button', { name: 'Start maintenance' }).click();
    await dialog.getByTestId('action-outcome').waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Escape');

    // An action the API refuses says so plainly, in the API's words.
    await page.getByRole('button', { name: 'Switchover…' }).click();
    await dialog.getByRole('button', { name: 'Rank the replicas (dry run)' }).click();
    await dialog.getByRole('button', { name: 'Switch over' }).click();
    const refusal = dialog.getByRole('alert');
    await refusal.waitFor({ timeout: UI_TIMEOUT });
    expect(await refusal.textContent()).toMatch(/409 conflict: .*maintenance/);
    await page.keyboard.press('Escape');
    ui.errors.splice(0, ui.errors.length, ...ui.errors.filter((e) => !e.includes('status of 409')));

    master!.signal('SIGKILL');
    await waitForEvent(api, 'billing', 'failover.refused', UI_TIMEOUT);
    const decision = page.getByTestId('latest-decision');
    await decision.filter({ hasText: 'failover refused — maintenance' }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('banner-refused').filter({ hasText: 'billing' }).waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(() => page.getByTestId('would-fail-over').locator('.badge').first().textContent(), { timeout: UI_TIMEOUT }).toMatch(/^\W*No$/);
    expect(await page.getByTestId('would-fail-over').textContent()).toMatch(/maintenance/);
    expect(ui.errors).toEqual([]);
  });

  it('says when the live stream is lost and catches up when it returns', async () => {
    // The browser reaches the controller through a proxy the test can cut: a real broken path.
    const port = Number(new URL(controller.url).port);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    cleanups.push(() => proxy.close());
    const ui = await openConsole(browser, `http://127.0.0.1:${proxy.port}`, { token: operatorToken });
    pages.push(ui);
    const { page } = ui;
    await page.locator('table.clusters tbody tr').first().waitFor({ timeout: UI_TIMEOUT });
    // The stream's position before the cut: an event the page has received.
    expect((await api('PATCH', '/api/v1/clusters/orders', { body: { minReplicasMaxLagS: 12 } })).status).toBe(200);
    const before = (await events(api, 'orders', 'cluster.updated')).at(-1)!.id;
    const position = () => page.locator('.banners').getAttribute('data-stream-position');
    await expect.poll(position, { timeout: UI_TIMEOUT }).toBe(before);
    proxy.cut('reset');
    await page.getByRole('alert').filter({ hasText: 'Live updates lost' }).waitFor({ timeout: UI_TIMEOUT });
    // Meanwhile something happens: a new cluster appears once the stream resumes, without a reload.
    const group = await startReplicationGroup(1);
    servers.push(...group);
    await createWatchedCluster(
      api,
      'late',
      group.map((s) => ({ host: s.host, port: s.port })),
      DOWN_AFTER_MS,
    );
    const created = (await events(api, 'late', 'cluster.created'))[0]!.id;
    proxy.restore();
    await page.getByRole('alert').filter({ hasText: 'Live updates lost' }).waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    // Resumed with Last-Event-ID: what happened during the cut is replayed through the stream itself.
    await expect.poll(async () => BigInt((await position()) ?? '0') >= BigInt(created), { timeout: UI_TIMEOUT }).toBe(true);
    await page.locator('table.clusters tbody tr').filter({ hasText: 'late' }).waitFor({ timeout: UI_TIMEOUT });
    expect(ui.navigations()).toBe(0);
    await page.screenshot({ path: 'docs/console-overview.png', fullPage: false });
  });

  it('every page passes axe-core WCAG 2.2 A/AA in light and dark, and reflows at 320 px without sideways scrolling', async () => {
    const paths = ['', '#/clusters/checkout', '#/clusters/billing', '#/agents', '#/events', '#/admin'];
    const failures: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      const signIn = await open({ colorScheme, axe: true });
      for (const v of await axeViolations(signIn.page)) failures.push(`${colorScheme} sign-in: ${v.id} ${v.help} at ${v.nodes.join(', ')}`);
      for (const width of [1280, 320]) {
        const ui = await open({ token: ADMIN_TOKEN, colorScheme, width, height: 800, axe: true });
        for (const path of paths) {
          await ui.page.goto(`${controller.url}/${path}`);
          await ui.page.locator('main h1').first().waitFor({ timeout: UI_TIMEOUT });
          await ui.page.waitForFunction(() => ![...document.querySelectorAll('[role=status]')].some((e) => e.textContent?.startsWith('Loading')), null, {
            timeout: UI_TIMEOUT,
          });
          for (const v of await axeViolations(ui.page))
            failures.push(`${colorScheme} ${width}px ${path || '#/'}: ${v.id} ${v.help} at ${v.nodes.slice(0, 3).join(', ')}`);
          if (width === 320 && (await scrollsSideways(ui.page))) failures.push(`${colorScheme} ${path || '#/'} scrolls sideways at 320 px`);
        }
        expect(ui.errors).toEqual([]);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
