// Drives a real VS Code workbench (code-server) with the installed .vsix through Playwright and Debian's
// chromium. Env from test/e2e/run.mjs: CS_URL, WORKSPACE, SHOTS, PW_CORE, PROFILE_ROOT, DUCKDB.
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
// A clip whose rank requests fail on purpose (user settings, like keybindings, are read as the workbench starts).
fs.copyFileSync(path.join(process.env.WORKSPACE, 'example.wav'), path.join(process.env.WORKSPACE, 'fail-rank.wav'));
{
  const file = path.join(process.env.PROFILE_ROOT, 'user-data/User/settings.json');
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify({ ...settings, 'audioSae.testing.failRequests': ['rank:fail-rank.wav'] }, null, 2));
}
/** A keybinding that runs audioSae.openClipAt with arguments (user keybindings are read as the workbench starts). */
const OPEN_CLIP_AT_KEY = 'Control+Alt+Shift+O';
{
  const file = path.join(process.env.PROFILE_ROOT, 'user-data/User/keybindings.json');
  const existing = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8') || '[]') : [];
  fs.writeFileSync(file, JSON.stringify([...existing.filter((k) => k.command !== 'audioSae.openClipAt'), {
    key: 'ctrl+alt+shift+o', command: 'audioSae.openClipAt', args: { path: path.join(process.env.WORKSPACE, 'clip-30s.wav'), time_s: 12.5, feature: 3, layer: 3 },
  }], null, 2));
}

before(async () => {
  const profile = fs.mkdtempSync(path.join(process.env.PROFILE_ROOT, 'chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info', '--disable-quic', '--no-first-run', '--disable-background-networking',
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
    await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } }).catch(() => {}); // an empty spot
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

/** Waits until `check()` is true (polling), or fails saying `what`. */
async function until(check, what, timeout = T) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

step('the workbench opens the workspace, and a clip clicked at once opens in the AudioSAE editor', async () => {
  await page.goto(`${process.env.CS_URL}/?folder=${encodeURIComponent(process.env.WORKSPACE)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: T });
  await page.getByRole('treeitem', { name: /example\.wav/ }).waitFor({ timeout: T });
  // Clicked as soon as the workbench knows the extension's contributions (its activity-bar icon shows; a click
  // before that is VS Code's binary-file editor, on a loaded machine): it opens in the AudioSAE editor (not as
  // binary text), activating the extension if it has not yet.
  await page.locator('.activitybar .action-item a[aria-label^="AudioSAE"], .activitybar .action-item[aria-label^="AudioSAE"] a').first().waitFor({ timeout: T });
  await openFile('example.wav');
  await webview().locator('#title:text("example.wav")').waitFor({ timeout: T });
});

step('the one-time offer makes AudioSAE the default editor for every other audio type it opens', async () => {
  const offer = page.locator('.notification-list-item', { hasText: 'in the AudioSAE spectrogram editor by default' }).first();
  if (!(await offer.waitFor({ timeout: 10_000 }).then(() => true, () => false))) await runCommand('Notifications: Show Notifications');
  await offer.waitFor({ timeout: T });
  const text = await offer.innerText();
  for (const type of ['.flac', '.mp3', '.ogg', '.opus']) assert.ok(text.includes(type), `the offer leaves out ${type}: ${text}`);
  assert.ok(!text.includes('.wav'), '.wav is associated already (the test settings)');
  await page.screenshot({ path: path.join(SHOTS, 'association-offer.png') });
  await offer.getByRole('button', { name: 'Use AudioSAE' }).click();
  const settingsFile = path.join(process.env.PROFILE_ROOT, 'user-data/User/settings.json');
  // VS Code rewrites the file in place: a read can catch it empty or half-written, which counts as "not yet".
  const associations = () => {
    try {
      return JSON.parse(fs.readFileSync(settingsFile, 'utf8'))['workbench.editorAssociations'] ?? {};
    } catch {
      return {};
    }
  };
  await until(() => associations()['*.mp3'] === 'audioSae.audioEditor', 'the .mp3 association in the user settings');
  for (const p of ['*.wav', '*.flac', '*.ogg', '*.opus']) assert.equal(associations()[p], 'audioSae.audioEditor', p);
});

step('in restricted mode, Show Engine Info says models run only in trusted workspaces', async () => {
  await runCommand('AudioSAE: Show Engine Info');
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'AudioSAE runs models only in trusted workspaces' });
  await toast.waitFor({ timeout: T });
  await page.screenshot({ path: path.join(SHOTS, 'engine-info-restricted.png') });
  await runCommand('Notifications: Clear All Notifications');
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

/** Mean and maximum luminance (Rec. 709, 0–255) of a canvas' opaque pixels, read inside the webview. */
const luminance = (locator) => locator.evaluate((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    const y = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
    sum += y;
    max = Math.max(max, y);
    n++;
  }
  return { mean: n ? sum / n : NaN, max, pixels: n };
});
let exampleLuminance;

/** How many rows each toolbar takes, and the labels that wrapped apart from their fields (at the 1400 px window). */
const toolbarLayout = (wv) => wv.locator('body').evaluate(() => {
  const mid = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 ? Math.round(r.top + r.height / 2) : undefined; };
  const rows = [...document.querySelectorAll('.toolbar')].map((bar) => new Set([...bar.children].map(mid).filter((y) => y !== undefined)).size);
  const parted = [...document.querySelectorAll('.toolbar .field')].filter((f) => Math.abs(mid(f.children[0]) - mid(f.children[1])) > 4).map((f) => f.textContent);
  return { rows, parted };
});

/** How many distinct colours a canvas shows (sampled), read inside the webview. */
const colours = (locator) => locator.evaluate((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4 * 37) if (d[i + 3] > 0) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
});

/** Picks an option of a <vscode-single-select> the way a user does: open it, click the option. */
async function pick(wv, id, label) {
  await wv.locator(`#${id}`).click();
  await wv.locator(`#${id} li[role="option"]`, { hasText: label }).first().click();
}

/** Types into a <vscode-textfield> and commits with Enter. */
async function type(wv, id, text) {
  const input = wv.locator(`#${id} input`);
  await input.fill(text);
  await input.press('Enter');
}

const openFile = (name) => page.getByRole('treeitem', { name: new RegExp(`^${name.replace('.', '\\.')}`) }).click();
const cursorX = (wv) => wv.locator('#cursor').evaluate((c) => parseFloat(c.style.left));

step('in restricted mode the spectrogram shows but no model runs', async () => {
  await openFile('example.wav');
  const wv = webview();
  await wv.locator('#spectrogram[data-drawn="true"]').waitFor({ timeout: T });
  await wv.locator('#status', { hasText: 'Restricted mode' }).waitFor({ timeout: T });
  assert.ok(await colours(wv.locator('#spectrogram')) > 20, 'spectrogram has too few colours');
  assert.equal(await wv.locator('body').getAttribute('data-trusted'), 'false');
  assert.equal(await wv.locator('#run').getAttribute('disabled'), '');
  await page.waitForTimeout(1000);
  assert.equal(await wv.locator('body').getAttribute('data-features'), null, 'a model ran in restricted mode');
  await page.screenshot({ path: path.join(SHOTS, 'editor-restricted.png') });
});

step('trusting the workspace runs the model in the open editor', async () => {
  await runCommand('Workspaces: Manage Workspace Trust');
  await page.getByRole('button', { name: /^Trust( Folder)?$/ }).first().click({ timeout: T });
  await page.locator('.workspace-trust-header.workspace-trust-trusted').waitFor({ timeout: T });
  await page.screenshot({ path: path.join(SHOTS, 'workspace-trusted.png') });
  // The trust editor opens as a modal editor: close it to get back to the clip.
  await page.locator('.monaco-modal-editor-block').getByRole('button', { name: /^Close/ }).first().click();
  await page.locator('.monaco-modal-editor-block').waitFor({ state: 'detached', timeout: T });
  const wv = webview();
  await page.getByRole('tab', { name: /example\.wav/ }).click();
  await wv.locator('body[data-features="whisper-small:2"]').waitFor({ timeout: T });
  assert.equal(await wv.locator('body').getAttribute('data-trusted'), 'true');
});

step('"Reopen Editor With…" still offers the built-in audio preview', async () => {
  await runCommand('View: Reopen Editor With...');
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor({ timeout: T });
  const labels = await rows.allInnerTexts();
  assert.ok(labels.some((l) => /AudioSAE/.test(l)), `no AudioSAE editor in ${labels}`);
  assert.ok(labels.some((l) => /Audio Preview|Media Preview/i.test(l)), `no built-in preview in ${labels}`);
  await page.keyboard.press('Escape');
});

step('the installed extension starts its engine and reports the execution provider', async () => {
  await runCommand('AudioSAE: Show Engine Info');
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'AudioSAE engine ready' });
  await toast.waitFor({ timeout: T });
  assert.match(await toast.innerText(), /onnxruntime on CPU/);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(SHOTS, 'engine-info.png') });
  await runCommand('Notifications: Clear All Notifications');
  await page.getByRole('tab', { name: /example\.wav/ }).click();
});

step('the editor shows the spectrogram, labelled feature lanes, metric lanes and the provider', async () => {
  const wv = webview();
  await wv.locator('#lanes:not([data-lanes="0"])').waitFor({ timeout: T });
  assert.ok(Number(await wv.locator('#lanes').getAttribute('data-lanes')) > 5);
  await page.waitForTimeout(300);
  assert.ok(await colours(wv.locator('#lanes')) > 5, 'feature lanes look empty');
  assert.ok(await colours(wv.locator('#metrics')) > 1, 'L0 / error lanes look empty');
  assert.equal(await wv.locator('.lane-label').count(), Number(await wv.locator('#lanes').getAttribute('data-lanes')));
  assert.match(await wv.locator('.lane-label').first().innerText(), /^#\d+$/);
  assert.match(await wv.locator('#status').innerText(), /layer 2 · .* · batch-topk · mean L0 [\d.]+ \(k 8\)/);
  assert.equal(await wv.locator('#provider').innerText(), 'CPU');
  exampleLuminance = await luminance(wv.locator('#spectrogram'));
  assert.deepEqual(await toolbarLayout(wv), { rows: [1, 1], parted: [] }, 'toolbar rows and labels parted from their fields');
  await page.screenshot({ path: path.join(SHOTS, 'editor.png') });
});

step('hovering shows the time, frame, L0 and the active features with values', async () => {
  const wv = webview();
  await wv.locator('#lanes').hover({ position: { x: 300, y: 4 } });
  const tip = wv.locator('#tooltip');
  await tip.waitFor({ state: 'visible', timeout: T });
  assert.match(await tip.innerText(), /[\d.]+ s · frame \d+ · L0 \d+ · error [\d.]+\n#\d+ [\d.]+/);
});

step('clicking a feature draws its activation curve over the spectrogram', async () => {
  const wv = webview();
  assert.equal(await colours(wv.locator('#overlay')), 0);
  await wv.locator('#features tr[data-feature]').first().click();
  await wv.locator('#overlay:not([data-selected=""])').waitFor({ timeout: T });
  await page.waitForTimeout(300);
  assert.ok(await colours(wv.locator('#overlay')) > 0, 'no curve drawn');
  const id = await wv.locator('#overlay').getAttribute('data-selected');
  assert.equal(await wv.locator(`.lane-label.selected[data-feature="${id}"]`).count(), 1, 'its lane label is highlighted');
  await wv.locator('#title').scrollIntoViewIfNeeded(); // the row clicked is below the plot
  await page.screenshot({ path: path.join(SHOTS, 'editor-feature.png') });
});

step('N and P jump the playhead and the view to the selected feature\'s next and previous firing', async () => {
  const wv = webview();
  const id = await wv.locator('#overlay').getAttribute('data-selected');
  const before = await cursorX(wv);
  await wv.locator('#next-firing').click();
  await page.waitForFunction(() => true);
  await page.waitForTimeout(300);
  const first = await cursorX(wv);
  await wv.locator('#title').click(); // focus the page, not a control
  await page.keyboard.press('n');
  await page.waitForTimeout(300);
  const second = await cursorX(wv);
  assert.ok(second > first, `N did not move on from ${first}px (feature ${id}, start ${before}px)`);
  await page.keyboard.press('p');
  await page.waitForTimeout(300);
  assert.ok(Math.abs(await cursorX(wv) - first) < 2, 'P went back to the previous firing');
});

/**
 * Follows a link of the editor (`click(wv)`) to feature `id` and waits until it was handed on: the feature page
 * (or the top clips) opened in a tab naming the feature, where the part that registers the command is
 * installed, or the editor said it is not installed. An opened tab is closed again, so the editor is the last
 * webview once more. Returns whether a tab opened.
 */
async function linkFollowed(click, id, what = 'the feature page', shot) {
  const wv = webview();
  await wv.locator('#notice').evaluate((n) => { n.textContent = ''; });
  await click(wv);
  const tab = page.locator('.tab', { hasText: new RegExp(`[Ff]eature ${id}\\b`) });
  let opened = false;
  await until(async () => {
    if ((await tab.count()) > 0) return (opened = true);
    return (await wv.locator('#notice').innerText({ timeout: 1000 }).catch(() => '')).includes(`${what} is not installed`);
  }, `${what} of feature ${id}, or the editor saying it is not installed`);
  if (!opened) return false;
  await page.waitForTimeout(500);
  if (shot) await page.screenshot({ path: path.join(SHOTS, shot) });
  await tab.first().click({ button: 'middle' }); // closes the tab, as in VS Code
  await until(async () => (await tab.count()) === 0, `the tab of feature ${id} to close`);
  await webview().locator('#title').waitFor({ timeout: T });
  return true;
}

step('the feature page and top-clips links hand the feature on (and say when that part is not installed)', async () => {
  const row = () => webview().locator('#features tr[data-feature]').first();
  const id = await row().getAttribute('data-feature');
  const installed = await linkFollowed((wv) => wv.locator(`#featurePage-${id}`).click(), id, 'the feature page', 'editor-link-feature-page.png');
  console.log(`# feature page: ${installed ? 'opened beside the editor' : 'not installed'}`);
  // The lane label (double-click), the tooltip's ids (reached with Shift held) and the selected feature's line link too.
  const labelId = await webview().locator('.lane-label').first().getAttribute('data-feature');
  await linkFollowed((wv) => wv.locator('.lane-label').first().dblclick(), labelId);
  let tipId;
  await linkFollowed(async (wv) => {
    await wv.locator('#title').click();
    await wv.locator('#lanes').hover({ position: { x: 300, y: 4 } });
    const tip = wv.locator('#tooltip');
    await tip.waitFor({ state: 'visible', timeout: T });
    await page.keyboard.down('Shift');
    const tipLink = tip.locator('a[data-feature]').first();
    tipId = await tipLink.getAttribute('data-feature');
    await tipLink.click();
    await page.keyboard.up('Shift');
  }, '\\d+');
  assert.match(String(tipId), /^\d+$/);
  // The feature selected (in the step before) has its own line with both links.
  const selected = webview().locator(`#features tr[data-feature="${id}"]`);
  if (!(await selected.getAttribute('class'))?.includes('selected')) await selected.click();
  await webview().locator('#selected-feature', { hasText: `Selected: #${id}` }).waitFor({ timeout: T });
  await linkFollowed((wv) => wv.locator('#selected-page').click(), id);
  await linkFollowed((wv) => wv.locator('#selected-top-clips').click(), id, 'finding top clips', 'editor-link-top-clips.png');
});

step('playback: clicking the spectrogram seeks, play moves the cursor', async () => {
  const wv = webview();
  const box = await wv.locator('#spectrogram').boundingBox();
  await wv.locator('#spectrogram').click({ position: { x: box.width * 0.3, y: 100 } });
  const seeked = await cursorX(wv);
  assert.ok(Math.abs(seeked - box.width * 0.3) < 3, `cursor at ${seeked}px after clicking at ${box.width * 0.3}px`);
  await wv.locator('#play').click();
  await page.waitForTimeout(1500);
  const playing = await wv.locator('#play').getAttribute('data-playing');
  const moved = await cursorX(wv);
  await wv.locator('#play').click();
  console.log(`# playback: ${playing === 'true' ? `cursor moved ${(moved - seeked).toFixed(0)} px in 1.5 s` : 'did not start (no audio output in this browser)'}`);
  if (playing === 'true') assert.ok(moved > seeked, 'cursor did not move while playing');
});

step('dragging across the waveform ranks the region\'s features; loop keeps playback inside it', async () => {
  const wv = webview();
  const box = await wv.locator('#waveform').boundingBox();
  await page.mouse.move(box.x + box.width * 0.05, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.25, box.y + 10, { steps: 5 });
  await page.mouse.up();
  const region = wv.locator('#region');
  await region.waitFor({ state: 'visible', timeout: T });
  assert.match(await region.innerText(), /Features in 0\.\d\d–2\.\d\d s/);
  assert.ok(await region.locator('tr[data-feature]').count() > 3);
  await wv.locator('#loop').click();
  await wv.locator('#play').click();
  await page.waitForTimeout(3000); // longer than the region
  const playing = await wv.locator('#play').getAttribute('data-playing');
  const x = await cursorX(wv);
  await wv.locator('#play').click();
  if (playing === 'true') assert.ok(x >= box.width * 0.05 - 2 && x <= box.width * 0.25 + 2, `cursor at ${x}px left the looped region`);
  await wv.locator('#loop').click();
  await page.screenshot({ path: path.join(SHOTS, 'editor-region.png') });
});

step('zoom and pan change the visible range; the axis follows', async () => {
  const wv = webview();
  const full = await wv.locator('body').getAttribute('data-view');
  await wv.locator('#zoom-in').click();
  await wv.locator('#zoom-in').click();
  const [a, b] = (await wv.locator('body').getAttribute('data-view')).split('-').map(Number);
  const [, d] = full.split('-').map(Number);
  assert.ok(Math.abs((b - a) - d / 4) < 0.02, `span ${b - a} after two zoom-ins of ${d}`);
  const box = await wv.locator('#spectrogram').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 50);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -300);
  await page.keyboard.up('Control');
  await page.waitForFunction(() => true);
  const [a2, b2] = (await wv.locator('body').getAttribute('data-view')).split('-').map(Number);
  assert.ok(b2 - a2 < b - a, 'Ctrl + wheel zooms in');
  await wv.locator('#overview').click({ position: { x: 5, y: 5 } });
  assert.ok(Number((await wv.locator('body').getAttribute('data-view')).split('-')[0]) < 0.5, 'the overview moves the view to the start');
  await page.waitForTimeout(300);
  assert.ok(await colours(wv.locator('#spectrogram')) > 20, 'the zoomed spectrogram is drawn');
  await wv.locator('#title').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'editor-zoomed.png') });
});

step('closing and reopening restores the zoom, position, selected feature and layer', async () => {
  const wv = webview();
  await wv.locator('#layer-up').click();
  await wv.locator('body[data-features="whisper-small:3"]').waitFor({ timeout: T });
  await wv.locator('#features tr[data-feature]').nth(1).click();
  await page.waitForTimeout(300);
  const before = { view: await wv.locator('body').getAttribute('data-view'), selected: await wv.locator('#overlay').getAttribute('data-selected') };
  await runCommand('View: Close Editor');
  await page.getByRole('tab', { name: /example\.wav/ }).waitFor({ state: 'detached', timeout: T });
  await openFile('example.wav');
  const again = webview();
  await again.locator('body[data-features="whisper-small:3"]').waitFor({ timeout: T });
  await again.locator(`#overlay[data-selected="${before.selected}"]`).waitFor({ timeout: T });
  assert.equal(await again.locator('body').getAttribute('data-view'), before.view);
  assert.match(await again.locator('#status').innerText(), /layer 3/);
});

step('the lanes follow the ranking and the number of features asked for', async () => {
  const wv = webview();
  await wv.locator('#zoom-fit').click();
  await type(wv, 'topN', '5');
  await wv.locator('#lanes[data-lanes="5"]').waitFor({ timeout: T });
  assert.equal(await wv.locator('.lane-label').count(), 5);
  const byMax = await wv.locator('#features tr[data-feature]').first().getAttribute('data-feature');
  await pick(wv, 'rank', 'by total');
  await page.waitForTimeout(500);
  assert.equal(await wv.locator('#features tr[data-feature]').count(), 5);
  assert.ok(byMax !== null);
});

step('switching back to a layer shown before (in this or an earlier editor of the clip) is instant (cached)', async () => {
  const wv = webview();
  await wv.locator('#layer-down').click();
  await wv.locator('body[data-features="whisper-small:2"]').waitFor({ timeout: T });
  await wv.locator('#status', { hasText: '(cached)' }).waitFor({ timeout: T });
});

step('a feature selected at layer 3 is not carried to layer 2: exporting it asks for a feature of this run', async () => {
  const wv = webview();
  assert.equal(await wv.locator('#overlay').getAttribute('data-selected'), '', 'the layer 3 selection was dropped');
  assert.equal(await wv.locator('#features tr.selected').count(), 0);
  await pick(wv, 'export', 'Audacity labels');
  await wv.locator('#notice', { hasText: 'Select a feature first' }).waitFor({ timeout: T });
  assert.equal(await page.locator('.quick-input-widget input.input').isVisible(), false, 'no save dialog for an empty label track');
});

/** Accepts VS Code's save dialog (a quick input proposing a name next to the clip) and returns the file written. */
async function acceptSave(wv, pattern, saved) {
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: T });
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('.quick-input-widget input.input')?.value ?? ''), pattern.source, { timeout: T });
  await page.keyboard.press('Enter');
  await wv.locator('#notice', { hasText: saved }).waitFor({ timeout: T });
  return path.join(process.env.WORKSPACE, fs.readdirSync(process.env.WORKSPACE).find((f) => pattern.test(f)));
}

step('exports the selected feature\'s firing intervals as an Audacity label track', async () => {
  const wv = webview();
  await wv.locator('#features tr[data-feature]').first().click();
  await pick(wv, 'export', 'Audacity labels');
  const file = await acceptSave(wv, /example\.whisper-small-l2\.feature\d+\.txt$/, 'Saved example.whisper-small-l2.feature');
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, /^\d+\.\d{3}\t\d+\.\d{3}\tfeature \d+ \(max \d+\.\d{3}\)$/);
});

step('exports the codes as Parquet that DuckDB reads back', async () => {
  const wv = webview();
  await pick(wv, 'export', 'Codes (Parquet)');
  const file = await acceptSave(wv, /example\.whisper-small-l2\.codes\.parquet$/, 'Saved example.whisper-small-l2.codes.parquet');
  const { DuckDBInstance } = await import(path.join(process.env.DUCKDB, 'lib/index.js'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT frame)::INTEGER AS frames, max(feature) AS top FROM read_parquet('${file}')`)).getRowObjectsJS();
  const kv = (await c.runAndReadAll(`SELECT decode(value) AS v FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'backbone'`)).getRowObjectsJS();
  c.closeSync();
  db.closeSync();
  // Batch top-k with k = 8: exactly 8 codes per frame on average, over the clip's frames (50 per second).
  const frames = Number(await wv.locator('body').getAttribute('data-duration')) * 50;
  assert.equal(rows[0].n % 8, 0);
  assert.ok(Math.abs(rows[0].n / 8 - frames) <= 1, `${rows[0].n} codes for ${frames} frames`);
  assert.ok(rows[0].top < 512);
  assert.equal(kv[0].v, 'whisper-small');
});

step('exports the view as a PNG image', async () => {
  const wv = webview();
  await pick(wv, 'export', 'View (PNG)');
  const file = await acceptSave(wv, /example\.whisper-small-l2\.png$/, 'Saved example.whisper-small-l2.png');
  const png = fs.readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const lanes = Number(await wv.locator('#lanes').getAttribute('data-lanes'));
  assert.equal(width, await wv.locator('#spectrogram').evaluate((c) => c.width));
  assert.equal(height, 200 + 48 + lanes * 14 + 44, 'spectrogram, waveform, lanes and metric lanes stacked');
});

step('a file changed on disk reloads in the open editor', async () => {
  await openFile('changing.wav');
  const wv = webview();
  await wv.locator('body[data-duration="3.00"]').waitFor({ timeout: T });
  await wv.locator('body[data-features]').waitFor({ timeout: T });
  fs.copyFileSync(path.join(process.env.WORKSPACE, 'clip-30s.wav'), path.join(process.env.WORKSPACE, 'changing.wav'));
  await wv.locator('body[data-duration="30.00"]').waitFor({ timeout: T });
  await wv.locator('#spectrogram[data-drawn="true"]').waitFor({ timeout: T });
});

step('a corrupt file shows an explanatory message in the editor', async () => {
  await openFile('corrupt.wav');
  const error = webview().locator('#error');
  await error.waitFor({ state: 'visible', timeout: T });
  assert.match(await error.innerText(), /corrupt\.wav: has a truncated "fmt " chunk/);
  // The status says what failed (not "Decoding…" left over), and nothing looks busy.
  const wv = webview();
  assert.equal(await wv.locator('#status').innerText(), 'Could not open the clip.');
  assert.equal(await wv.locator('#busy').isVisible(), false);
  assert.equal(await wv.locator('#cancel').isVisible(), false);
  await page.screenshot({ path: path.join(SHOTS, 'editor-corrupt.png') });
});

step('digital silence draws as the bottom of the colour scale and is called silent; a quiet clip says its peak', async () => {
  await openFile('silence.wav');
  let wv = webview();
  await wv.locator('#title:text("silence.wav")').waitFor({ timeout: T });
  await wv.locator('#spectrogram[data-drawn="true"]').waitFor({ timeout: T });
  await wv.locator('#level', { hasText: 'Silent clip' }).waitFor({ timeout: T });
  await page.waitForTimeout(300);
  const silent = await luminance(wv.locator('#spectrogram'));
  console.log(`# spectrogram luminance: silence mean ${silent.mean.toFixed(1)} max ${silent.max.toFixed(1)}; example.wav mean ${exampleLuminance.mean.toFixed(1)} max ${exampleLuminance.max.toFixed(1)}`);
  // viridis starts at (68, 1, 84), luminance 21; its top (253, 231, 37) is 222.
  assert.ok(silent.pixels > 1000 && silent.max < 30, `silence is drawn bright: max luminance ${silent.max}`);
  assert.ok(exampleLuminance.mean > silent.mean + 30, `speech (${exampleLuminance.mean}) is not brighter than silence (${silent.mean})`);
  await page.screenshot({ path: path.join(SHOTS, 'editor-silence.png') });
  await openFile('quiet.wav');
  wv = webview();
  await wv.locator('#title:text("quiet.wav")').waitFor({ timeout: T });
  await wv.locator('#level', { hasText: /Very quiet: peak −50 dBFS/ }).waitFor({ timeout: T });
});

step('an MP3 opens in the editor; a Hub backbone that cannot be had says so, offers the bundled demo model, and runs it', async () => {
  await openFile('tone.mp3');
  const wv = webview();
  await wv.locator('#title:text("tone.mp3")').waitFor({ timeout: T });
  await wv.locator('body[data-features="whisper-small:2"]').waitFor({ timeout: T });
  assert.match(await wv.locator('#title').getAttribute('title'), /^1\.00 s · 44100 Hz · 2 channels · peak −[\d.]+ dBFS$/);
  // The loopback Hub serves only Whisper-small: HuBERT-base cannot be downloaded, as offline.
  await pick(wv, 'backbone', 'HuBERT-base');
  await wv.locator('body[data-activity="failed"]').waitFor({ timeout: T });
  assert.equal(await wv.locator('#status').innerText(), 'Could not get HuBERT-base, layer 2.');
  assert.equal(await wv.locator('#busy').isVisible(), false);
  assert.equal(await wv.locator('#cancel').isVisible(), false);
  const error = wv.locator('#error');
  assert.match(await error.innerText(), /facebook\/hubert-base-ls960[\s\S]*audioSae\.weightsFolder[\s\S]*audioSae\.saePath/);
  await page.screenshot({ path: path.join(SHOTS, 'editor-hub-unavailable.png') });
  await wv.locator('#run-demo').click();
  await wv.locator('body[data-features="hubert-tiny-random:2"]').waitFor({ timeout: T });
  assert.equal(await error.isVisible(), false);
  assert.equal(await wv.locator('#sae vscode-option[value="hub"]').textContent(), 'Bundled demo SAE');
  assert.match(await wv.locator('#status').innerText(), /HuBERT-like demo .*layer 2 · bundled demo SAE/);
  assert.deepEqual(await toolbarLayout(wv), { rows: [1, 1], parted: [] }, 'a long backbone label does not widen the toolbar');
  await page.screenshot({ path: path.join(SHOTS, 'editor-demo.png') });
});

/** Resident memory of the processes whose command line matches, MB (Linux /proc). */
function rssMB(pattern) {
  let kb = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!pattern.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return kb / 1024;
}

/**
 * JS heap of the workbench's renderer after a garbage collection, MB. code-server serves webviews from the
 * workbench's own origin, so their frames share that renderer and isolate: a webview's cost is the difference
 * before and after it opens (chromium runs with --enable-precise-memory-info).
 */
async function rendererHeapMB() {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.detach();
  return (await page.evaluate(() => performance.memory.usedJSHeapSize)) / 1024 / 1024;
}

step('timing and memory: first spectrogram pixels and full features for 30 s, 10 min and 1 h (printed, not asserted)', async () => {
  for (const name of ['clip-30s.wav', 'clip-10min.wav', 'clip-1h.wav']) {
    const rssBefore = rssMB(/chromium/);
    const heapBefore = await rendererHeapMB();
    const started = Date.now();
    await openFile(name);
    const wv = webview();
    await wv.locator(`#title:text("${name}")`).waitFor({ timeout: 5 * T });
    await wv.locator('#spectrogram[data-drawn="true"]').waitFor({ timeout: 5 * T });
    const firstPixels = Date.now() - started;
    await wv.locator('body[data-features]').waitFor({ timeout: 20 * T });
    const full = Date.now() - started;
    console.log(`# ${name}: first spectrogram pixels ${firstPixels} ms, full features ${full} ms; renderer JS heap after GC ${heapBefore.toFixed(1)} → ${(await rendererHeapMB()).toFixed(1)} MB; chromium RSS ${rssBefore.toFixed(0)} → ${rssMB(/chromium/).toFixed(0)} MB; extension host + engine worker RSS ${rssMB(/extensionHost/).toFixed(0)} MB`);
    await page.screenshot({ path: path.join(SHOTS, `timing-${name}.png`) });
  }
  // Still responsive on the hour: zoom into a minute in the middle and hover.
  const wv = webview();
  const t0 = Date.now();
  for (let i = 0; i < 6; i++) await wv.locator('#zoom-in').click();
  await wv.locator('#spectrogram').hover({ position: { x: 200, y: 50 } });
  await wv.locator('#tooltip').waitFor({ state: 'visible', timeout: T });
  console.log(`# clip-1h.wav: six zoom steps and a hover tooltip in ${Date.now() - t0} ms; view ${await wv.locator('body').getAttribute('data-view')}`);
  await page.screenshot({ path: path.join(SHOTS, 'timing-clip-1h-zoomed.png') });
});

step('results stream in window by window on the hour-long clip, and Cancel stops the run', async () => {
  const wv = webview();
  await wv.locator('#zoom-fit').click();
  await wv.locator('#layer-up').click(); // layer 3 of the hour: a fresh run
  await wv.locator('#status', { hasText: /Running .*layer 3: \d+% of 3600 s/ }).waitFor({ timeout: T });
  // Lanes of the windows done so far are drawn while the run goes on; the rest of the hour stays empty.
  await wv.locator('#lanes:not([data-lanes="0"])').waitFor({ timeout: T });
  await page.waitForTimeout(200);
  const [left, right] = await wv.locator('#lanes').evaluate((c) => {
    const ctx = c.getContext('2d');
    const alpha = (x) => { const d = ctx.getImageData(x, 0, 1, c.height).data; let a = 0; for (let i = 3; i < d.length; i += 4) a += d[i]; return a; };
    return [alpha(1), alpha(c.width - 2)];
  });
  assert.match(await wv.locator('#status').innerText(), /Running/);
  assert.ok(left > 0 && right === 0, `lanes drawn at the start (${left}) and not yet at the end (${right})`);
  assert.deepEqual(await toolbarLayout(wv), { rows: [1, 1], parted: [] }, 'Cancel takes Run\'s place: the toolbar keeps its rows');
  await page.screenshot({ path: path.join(SHOTS, 'editor-streaming-1h.png') });
  await wv.locator('#cancel').click();
  await wv.locator('#status', { hasText: 'Cancelled' }).waitFor({ timeout: T });
  assert.equal(await wv.locator('body').getAttribute('data-features'), 'whisper-small:2', 'the cancelled run never completed');
});

step('audioSae.openClipAt opens a clip at a moment with a feature selected, at the layer asked for', async () => {
  // The feature page's "open at this time" runs this command; here a keybinding with the same arguments does
  // (written before the workbench started, see OPEN_CLIP_AT_KEY). Press until the clip's editor is the active tab.
  await until(async () => {
    await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } }).catch(() => {}); // focus the workbench, not a webview
    await page.keyboard.press(OPEN_CLIP_AT_KEY);
    await page.waitForTimeout(1500);
    return (await webview().locator('#title:text("clip-30s.wav")').count()) > 0;
  }, 'the keybinding to open clip-30s.wav');
  const wv = webview();
  await wv.locator('#title:text("clip-30s.wav")').waitFor({ timeout: T });
  await wv.locator('body[data-features="whisper-small:3"]').waitFor({ timeout: 5 * T });
  await wv.locator('#overlay[data-selected="3"]').waitFor({ timeout: T });
  await wv.locator('#selected-feature', { hasText: 'Selected: #3' }).waitFor({ timeout: T });
  const [t0, t1] = (await wv.locator('body').getAttribute('data-view')).split('-').map(Number);
  assert.ok(t0 <= 12.5 && 12.5 <= t1, `the view ${t0}-${t1} s shows 12.5 s`);
  const box = await wv.locator('#spectrogram').boundingBox();
  const x = await cursorX(wv);
  assert.ok(Math.abs(x - ((12.5 - t0) / (t1 - t0)) * box.width) < 3, `the playhead at ${x}px stands at 12.5 s`);
  await wv.locator('#title').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'editor-open-at.png') });
});

step('a request whose handler throws still gets a reply, and the editor says what failed', async () => {
  // The hidden setting audioSae.testing.failRequests (written before the workbench started) makes the host's
  // rank handler throw for fail-rank.wav alone.
  await openFile('fail-rank.wav');
  const wv = webview();
  await wv.locator('#title:text("fail-rank.wav")').waitFor({ timeout: T });
  await wv.locator('body[data-failed-request="rank"]').waitFor({ timeout: 5 * T });
  const notice = wv.locator('#notice');
  assert.match(await notice.innerText(), /Could not rank the features: the rank handler failed/);
  assert.equal(await notice.getAttribute('data-level'), 'error');
  await page.screenshot({ path: path.join(SHOTS, 'editor-failed-request.png') });
});
