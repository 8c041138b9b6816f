// Drives a real VS Code workbench (code-server) with the installed .vsix through Playwright and Debian's
// chromium. Env from test/e2e/run.mjs: CS_URL, WORKSPACE, SHOTS, PW_CORE, PROFILE_ROOT.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';

const { chromium } = createRequire(import.meta.url)(process.env.PW_CORE);
const T = 90_000;
const SHOTS = process.env.SHOTS;
let context;
let page;
const consoleLines = [];
fs.mkdirSync(SHOTS, { recursive: true });

before(async () => {
  const profile = fs.mkdtempSync(path.join(process.env.PROFILE_ROOT, 'chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
});

after(async () => {
  fs.writeFileSync(path.join(SHOTS, 'console.log'), consoleLines.join('\n'));
  await context?.close();
});

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      await page.screenshot({ path: path.join(SHOTS, `FAILED-${name.replace(/[^a-z0-9]+/gi, '_')}.png`) }).catch(() => {});
      throw e;
    }
  });
}

async function runCommand(label) {
  await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => {});
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: T });
  await input.fill(`>${label}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: T });
  await page.keyboard.press('Enter');
}

step('the workbench opens the workspace', async () => {
  await page.goto(`${process.env.CS_URL}/?folder=${encodeURIComponent(process.env.WORKSPACE)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: T });
  await page.getByRole('treeitem', { name: /example\.wav/ }).waitFor({ timeout: T });
});

step('the installed extension starts its engine and reports the execution provider', async () => {
  await runCommand('AudioSAE: Show Engine Info');
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'AudioSAE engine ready' });
  await toast.waitFor({ timeout: T });
  assert.match(await toast.innerText(), /onnxruntime on CPU/);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(SHOTS, 'engine-info.png') });
});

step('Download Models shows progress and fetches the configured backbone and SAE from the Hub', async () => {
  await runCommand('AudioSAE: Download Models for the Current Settings');
  const done = page.locator('.notifications-toasts .notification-list-item', { hasText: 'are ready' });
  await done.waitFor({ timeout: T });
  assert.match(await done.innerText(), /Whisper-small and its layer 2 SAE are ready/);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(SHOTS, 'download-models.png') });
});
