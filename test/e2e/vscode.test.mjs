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

/** Runs a command from the palette, retrying while the extension's contributions are still being registered. */
async function runCommand(label) {
  const deadline = Date.now() + T;
  for (;;) {
    await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => {});
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: T });
    await input.fill(`>${label}`);
    const found = await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 5000 }).then(() => true, () => false);
    if (found) break;
    await page.keyboard.press('Escape');
    if (Date.now() > deadline) throw new Error(`command "${label}" never appeared in the palette`);
  }
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

// A VS Code webview is <iframe class="webview"> (host page) holding <iframe id="active-frame"> (our page).
const webview = () => page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');

/** How many distinct colours a canvas shows (sampled), read inside the webview. */
const colours = (locator) => locator.evaluate((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4 * 37) if (d[i + 3] > 0) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
});

step('opening a .wav shows the spectrogram and the SAE feature lanes', async () => {
  await page.getByRole('treeitem', { name: /example\.wav/ }).click();
  const wv = webview();
  await wv.locator('#spectrogram[data-drawn="true"]').waitFor({ timeout: T });
  await wv.locator('body[data-features="whisper-small:2"]').waitFor({ timeout: T });
  assert.ok(await colours(wv.locator('#spectrogram')) > 20, 'spectrogram has too few colours');
  assert.ok(Number(await wv.locator('#lanes').getAttribute('data-lanes')) > 5);
  assert.ok(await colours(wv.locator('#lanes')) > 5, 'feature lanes look empty');
  assert.match(await wv.locator('#status').innerText(), /layer 2/);
  await page.screenshot({ path: path.join(SHOTS, 'editor.png') });
});

step('hovering shows the frame and its active features', async () => {
  const wv = webview();
  await wv.locator('#lanes').hover({ position: { x: 300, y: 4 } });
  const tip = wv.locator('#tooltip');
  await tip.waitFor({ state: 'visible', timeout: T });
  assert.match(await tip.innerText(), /s · frame \d+ · L0 \d+\n#\d+ /);
});

step('clicking a feature draws its activation curve over the spectrogram', async () => {
  const wv = webview();
  assert.equal(await colours(wv.locator('#overlay')), 0);
  await wv.locator('#features tr[data-feature]').first().click();
  await wv.locator('#overlay:not([data-selected=""])').waitFor({ timeout: T });
  assert.ok(await colours(wv.locator('#overlay')) > 0, 'no curve drawn');
  await page.screenshot({ path: path.join(SHOTS, 'editor-feature.png') });
});

step('playback: space plays, the cursor moves, clicking the spectrogram seeks', async () => {
  const wv = webview();
  await wv.locator('#spectrogram').click({ position: { x: 400, y: 100 } });
  const left = () => wv.locator('#cursor').evaluate((c) => parseFloat(c.style.left));
  const seeked = await left();
  assert.ok(seeked > 20 && seeked < 60, `cursor at ${seeked}% after clicking at 400 px`);
  await wv.locator('#play').click();
  await page.waitForTimeout(1500);
  const playing = await wv.locator('#play').innerText();
  await wv.locator('#play').click();
  // Headless Chromium has no audio device; where playback runs, the cursor must have moved on.
  if (playing === '⏸') assert.ok(await left() > seeked, 'cursor did not move while playing');
});

step('dragging across the waveform ranks the features active in that region', async () => {
  const wv = webview();
  const box = await wv.locator('#waveform').boundingBox();
  await page.mouse.move(box.x + box.width * 0.05, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.45, box.y + 10, { steps: 5 });
  await page.mouse.up();
  const region = wv.locator('#region');
  await region.waitFor({ state: 'visible', timeout: T });
  assert.match(await region.innerText(), /Features in 0\.\d\d–4\.\d\d s/);
  assert.ok(await region.locator('tr[data-feature]').count() > 3);
});

step('the lanes follow the ranking and the number of features asked for', async () => {
  const wv = webview();
  await wv.locator('#topN').fill('5');
  await wv.locator('#topN').press('Enter');
  await wv.locator('#lanes[data-lanes="5"]').waitFor({ timeout: T });
  const byMax = await wv.locator('#features tr[data-feature]').first().getAttribute('data-feature');
  await wv.locator('#rank').selectOption('total');
  await wv.locator('#features tr[data-feature]').first().waitFor({ timeout: T });
  assert.equal(await wv.locator('#features tr[data-feature]').count(), 5);
  await page.screenshot({ path: path.join(SHOTS, 'editor-region.png') });
  assert.ok(byMax !== null);
});

step('exports the selected feature\'s firing intervals as an Audacity label track', async () => {
  const wv = webview();
  await wv.locator('#features tr[data-feature]').first().click();
  await wv.locator('#export').selectOption('intervals-audacity');
  // VS Code asks where to save, proposing a name next to the clip: accept it.
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: T });
  await page.waitForFunction(() => /example\.whisper-small-l2\.feature\d+\.txt$/.test(document.querySelector('.quick-input-widget input.input')?.value ?? ''), null, { timeout: T });
  await page.keyboard.press('Enter');
  await wv.locator('#status', { hasText: 'Saved example.whisper-small-l2.feature' }).waitFor({ timeout: T });
  const file = fs.readdirSync(process.env.WORKSPACE).find((f) => /\.feature\d+\.txt$/.test(f));
  const lines = fs.readFileSync(path.join(process.env.WORKSPACE, file), 'utf8').trim().split('\n');
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, /^\d+\.\d{3}\t\d+\.\d{3}\tfeature \d+ \(max \d+\.\d{3}\)$/);
});

step('changing the layer reruns the model', async () => {
  const wv = webview();
  await wv.locator('#layer').selectOption('3');
  await wv.locator('body[data-features="whisper-small:3"]').waitFor({ timeout: T });
  assert.match(await wv.locator('#status').innerText(), /layer 3/);
});

step('a corrupt file shows an explanatory message in the editor', async () => {
  await page.getByRole('treeitem', { name: /corrupt\.wav/ }).click();
  const error = webview().locator('#error');
  await error.waitFor({ state: 'visible', timeout: T });
  assert.match(await error.innerText(), /corrupt\.wav: has a truncated "fmt " chunk/);
  await page.screenshot({ path: path.join(SHOTS, 'editor-corrupt.png') });
});

step('timing: first spectrogram pixels and full features for a 30 s and a 10 min clip (printed, not asserted)', async () => {
  for (const name of ['clip-30s.wav', 'clip-10min.wav']) {
    const started = Date.now();
    await page.getByRole('treeitem', { name: new RegExp(name.replace('.', '\\.')) }).click();
    const wv = webview();
    await wv.locator('#spectrogram[data-drawn="true"]').waitFor({ timeout: 5 * T });
    const firstPixels = Date.now() - started;
    await wv.locator('body[data-features]').waitFor({ timeout: 5 * T });
    const full = Date.now() - started;
    console.log(`# ${name}: first spectrogram pixels ${firstPixels} ms, full features ${full} ms`);
    await page.screenshot({ path: path.join(SHOTS, `timing-${name}.png`) });
  }
});
