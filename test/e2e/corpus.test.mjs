// Corpus analyses from the command palette in a real VS Code (code-server + chromium, started by
// test/e2e/run.mjs): Analyse Corpus… through its quick picks on a small corpus written into the workspace here
// (the bundled toy backbone whisper-tiny-random, every layer), the progress notification, Cancel, Resume, a window
// reload mid-run and the offer to resume it; then the metrics, classification and feature-map panels, a layer
// switch by clicking the Figure 2 chart, the top clips of a feature, and the timings (printed, not asserted): the
// map's frame time while panning, the extension host's event-loop delay during the run, and the audio editor's
// input delay (hover → tooltip) without and during a second run.
// Env from run.mjs: CS_URL, WORKSPACE, SHOTS, PW_CORE, PROFILE_ROOT.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before } from 'node:test';
import { T, workbench } from './workbench.mjs';
import { wavClip } from './wavClip.mjs';

const CORPUS = path.join(process.env.WORKSPACE, 'palette-corpus');
const STORE = path.join(process.env.WORKSPACE, 'palette.duckdb');
// AUDIOSAE_E2E_MAP_SAE=<folder written by bench/make_map_sae.py>: also time the map with its 10 240 features.
const MAP_SAE = process.env.AUDIOSAE_E2E_MAP_SAE;
const MAP_STORE = path.join(process.env.WORKSPACE, 'map10k.duckdb');
const CLI = path.join(path.dirname(new URL(import.meta.url).pathname), '../../dist/cli.cjs');
let page;
const { step, shot, runCommand, until, frameWith } = workbench('corpus', { onPage: (p) => { page = p; } });


// 18 clips of 4 s in three domains: enough work to see progress, cancel and reload mid-run.
const CLIPS = 18;
before(async () => {
  let seed = 5;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  const kinds = {
    speech: (k) => (i) => 0.3 * Math.sin((2 * Math.PI * (120 + 10 * k) * i) / 16000) * (0.5 + 0.5 * Math.sin((2 * Math.PI * 4 * i) / 16000)),
    music: (k) => (i) => 0.2 * Math.sin((2 * Math.PI * (262 + 20 * k) * i) / 16000) + 0.2 * Math.sin((2 * Math.PI * 392 * i) / 16000),
    sounds: () => (i) => 0.5 * noise() * (Math.floor(i / 3000) % 2),
  };
  for (const [domain, make] of Object.entries(kinds)) {
    fs.mkdirSync(path.join(CORPUS, domain), { recursive: true });
    for (let k = 0; k < CLIPS / 3; k++) fs.writeFileSync(path.join(CORPUS, domain, `${domain}-${k}.wav`), wavClip(4, make(k)));
  }
  if (MAP_SAE) {
    execFileSync(process.execPath, [CLI, 'corpus', 'run', CORPUS, '--backbone', 'whisper-tiny-random', '--sae', MAP_SAE, '--layers', '1', '--mode', 'threshold',
      '--store', MAP_STORE], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
});

const quickInput = () => page.locator('.quick-input-widget');
/** The quick pick with `title` is showing. */
const waitPick = (title) => quickInput().locator('.quick-input-title', { hasText: title }).waitFor({ timeout: T });
const row = (text) => quickInput().locator('.quick-input-list .monaco-list-row', { hasText: text }).first();

async function openWorkbench() {
  await page.goto(`${process.env.CS_URL}/?folder=${encodeURIComponent(process.env.WORKSPACE)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: T });
  await page.getByRole('treeitem', { name: /example\.wav/ }).waitFor({ timeout: T });
}

async function trustWorkspace() {
  await runCommand('Workspaces: Manage Workspace Trust');
  // Already trusted (an earlier step file trusted it): no Trust button comes. (isVisible does not wait.)
  const trusted = page.locator('.workspace-trust-header.workspace-trust-trusted');
  const trust = page.getByRole('button', { name: /^Trust( Folder)?$/ }).first();
  const first = await Promise.race([
    trusted.waitFor({ timeout: T }).then(() => 'trusted', () => 'none'),
    trust.waitFor({ timeout: T }).then(() => 'button', () => 'none'),
  ]);
  if (first === 'button') await trust.click();
  await page.locator('.workspace-trust-header.workspace-trust-trusted').waitFor({ timeout: T });
  await page.locator('.monaco-modal-editor-block').getByRole('button', { name: /^Close/ }).first().click().catch(() => {});
  await page.locator('.monaco-modal-editor-block').waitFor({ state: 'detached', timeout: T }).catch(() => {});
  await runCommand('View: Close All Editors');
}

const toast = (text) => page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
/** Clips done in the progress notification (−1 while it shows none). */
async function clipsDone() {
  const text = await page.locator('.notifications-toasts .notification-list-item', { hasText: 'corpus run' }).first().innerText({ timeout: 1000 }).catch(() => '');
  const m = /clips (\d+)\/(\d+)/.exec(text);
  return m ? Number(m[1]) : -1;
}

/** Analyse Corpus… on palette-corpus with the toy backbone, every layer, the demo SAEs, into `store` (shots of the picks if `shots`). */
async function startAnalysis(store, shots = false) {
  await runCommand('AudioSAE: Analyse Corpus…');
  await waitPick('folders');
  await quickInput().locator('input.input').fill('palette');
  await row('palette-corpus').click();
  if (shots) await shot('corpus-pick-folders');
  await page.keyboard.press('Enter');
  await waitPick('Backbone');
  await quickInput().locator('input.input').fill('whisper-tiny-random');
  await row('whisper-tiny-random').waitFor({ timeout: T });
  await page.keyboard.press('Enter');
  await waitPick('layers');
  // Every layer: tick the rows not ticked yet (the configured layer starts ticked).
  for (const n of [1, 2, 3]) {
    const r = row(`layer ${n}`);
    if ((await r.getAttribute('aria-checked')) !== 'true') await r.click();
  }
  if (shots) await shot('corpus-pick-layers');
  await page.keyboard.press('Enter');
  await waitPick('SAE');
  await row('bundled demo SAEs').click();
  await waitPick('SAE mode');
  await row('auto').click();
  await waitPick('store');
  await quickInput().locator('input.input').fill(store);
  await page.keyboard.press('Enter');
}

step('Analyse Corpus… walks through its quick picks and shows the run\'s progress; Cancel stops it', async () => {
  await openWorkbench();
  await trustWorkspace();
  await startAnalysis(STORE, true);

  await until(async () => (await clipsDone()) >= 2, 'two clips done in the progress notification');
  const progress = page.locator('.notifications-toasts .notification-list-item', { hasText: 'corpus run' }).first();
  const text = await progress.innerText();
  assert.match(text, new RegExp(`clips \\d+/${CLIPS}`));
  assert.match(text, /audio-h\/h/);
  assert.match(text, /ETA/);
  await shot('corpus-progress');
  await progress.hover();
  await progress.getByRole('button', { name: /Cancel/ }).click();
  const stopped = toast('Corpus run stopped');
  await stopped.waitFor({ timeout: T });
  const m = /(\d+) run, (\d+) already stored/.exec(await stopped.innerText());
  assert.ok(m && Number(m[1]) >= 2 && Number(m[1]) < CLIPS, await stopped.innerText());
  await shot('corpus-cancelled');
});

step('Resume continues where it stopped; a window reload mid-run offers to resume, and the run ends with every clip stored once', async () => {
  const stopped = toast('Corpus run stopped');
  const before = Number(/(\d+) run/.exec(await stopped.innerText())[1]);
  await stopped.getByRole('button', { name: 'Resume' }).click();
  await until(async () => (await clipsDone()) >= before + 2, 'the resumed run past the stored clips');
  const resumedText = await page.locator('.notifications-toasts .notification-list-item', { hasText: 'corpus run' }).first().innerText();
  assert.match(resumedText, /already stored/, 'the resumed run skipped nothing');
  await runCommand('Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ timeout: T });
  const offer = toast('did not finish. Resume it?');
  await offer.waitFor({ timeout: T });
  await shot('corpus-resume-offer');
  await offer.getByRole('button', { name: 'Resume' }).click();
  const done = toast('Corpus run done');
  await done.waitFor({ timeout: 3 * T });
  const m = /(\d+) clips \((\d+) run, (\d+) already stored/.exec(await done.innerText());
  assert.ok(m, await done.innerText());
  assert.equal(Number(m[1]), CLIPS);
  assert.ok(Number(m[3]) >= before + 2, `only ${m[3]} clips were already stored after two partial runs`);
  await shot('corpus-done');
});

let panelFrame;
let firing;
step('Show Reconstruction Metrics: per-domain rows with the formulas on hover, a curve per metric over the three layers', async () => {
  await runCommand('AudioSAE: Show Reconstruction Metrics');
  panelFrame = await frameWith('body[data-kind="metrics"] #panel-title');
  const rows = panelFrame.locator('vscode-table-body vscode-table-row');
  await until(async () => (await rows.count()) > 0, 'the metric rows');
  assert.match(await panelFrame.locator('.run').innerText(), /whisper-tiny-random · run \w+ · .* · 18 clips/);
  assert.deepEqual((await rows.locator('vscode-table-cell:first-child').allInnerTexts()).map((t) => t.trim()), ['corpus', 'music', 'sounds', 'speech']);
  const first = await rows.first().innerText();
  assert.match(first, /corpus/);
  const fve = await panelFrame.locator('vscode-table-header-cell[data-key="fve"]').getAttribute('title');
  assert.match(fve, /FVE = 1 − Σ_d Var/);
  assert.equal(await panelFrame.locator('#metric-curves svg').count(), 9);
  assert.equal(await panelFrame.locator('#metric-curves svg').first().locator('path[stroke]:not(.domain)').count(), 4); // corpus + 3 domains (not the axes' paths)
  await shot('panel-metrics');
});

step('Classify Features: the per-layer chart (click a layer to switch), Venn counts and a filterable feature table', async () => {
  await runCommand('AudioSAE: Classify Features');
  panelFrame = await frameWith('body[data-kind="classification"] #figure2 svg');
  assert.equal(await panelFrame.locator('#figure2 g.bar').count(), 3);
  assert.equal(await panelFrame.locator('#figure2 g.bar').first().locator('rect:not(.active-outline)').count(), 6);
  const title = () => panelFrame.locator('#panel-title').innerText();
  const other = /layer 3/.test(await title()) ? 1 : 3;
  await panelFrame.locator(`#figure2 g.bar[data-layer="${other}"] rect`).first().click();
  await until(async () => new RegExp(`layer ${other}`).test(await title().catch(() => '')), `the panel on layer ${other}`);
  panelFrame = await frameWith('body[data-kind="classification"] #venn');
  assert.equal(await panelFrame.locator('#venn .venn-region').count(), 8);
  const all = Number(/(\d+) rows/.exec(await panelFrame.locator('.count').innerText())[1]);
  assert.equal(all, 512);
  await panelFrame.locator('vscode-textfield.filter').evaluate((f) => {
    f.value = 'label:dead';
    f.dispatchEvent(new Event('input'));
  });
  await until(async () => Number(/(\d+) rows/.exec(await panelFrame.locator('.count').innerText())?.[1] ?? -1) < all, 'the filtered table');
  const labels = await panelFrame.locator('vscode-table-body vscode-table-row vscode-table-cell:nth-child(2)').allInnerTexts();
  assert.ok(labels.length > 0 && labels.every((l) => l.trim() === 'dead'), labels.slice(0, 5).join(','));
  await shot('panel-classification');
  // A feature that fires, for the top-clips step.
  await panelFrame.locator('vscode-textfield.filter').evaluate((f) => {
    f.value = 'firesUnder>0';
    f.dispatchEvent(new Event('input'));
  });
  await until(async () => !(await panelFrame.locator('vscode-table-body vscode-table-row vscode-table-cell:nth-child(2)').allInnerTexts()).includes('dead'), 'alive features');
  firing = Number((await panelFrame.locator('vscode-table-body vscode-table-row vscode-table-cell:first-child').first().innerText()).trim());
});

step('Show Feature Map: the map draws on canvas; panning is timed (printed); hovering names a feature', async () => {
  await runCommand('AudioSAE: Show Feature Map');
  panelFrame = await frameWith('body[data-kind="featureMap"] #feature-map, #panel-error', 3 * T);
  if (await panelFrame.locator('#panel-error').count()) assert.fail(await panelFrame.locator('#panel-error').innerText());
  await until(async () => (await panelFrame.locator('#map-status').innerText()).includes('features shown'), 'the first frame');
  // Pan: a drag in 40 steps; the panel times each redraw (requestAnimationFrame to the end of drawing).
  console.log(`# feature map pan: ${await panMap(panelFrame)}`);
  // Hover a drawn point: the tooltip names the feature and its label.
  const hit = await panelFrame.locator('#feature-map').evaluate((c) => {
    const g = c.getContext('2d');
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const dpr = window.devicePixelRatio || 1;
    for (let y = 0; y < c.height; y += 3) for (let x = 0; x < c.width; x += 3) if (d[(y * c.width + x) * 4 + 3] > 0) return { x: x / dpr, y: y / dpr };
    return null;
  });
  assert.ok(hit, 'the map drew no point');
  const box = await panelFrame.locator('#feature-map').boundingBox();
  await page.mouse.move(box.x + hit.x + 1, box.y + hit.y + 1);
  await until(async () => /^feature \d+ · /.test(await panelFrame.locator('.map-tooltip').innerText().catch(() => '')), 'the hover tooltip');
  console.log(`# hover: ${await panelFrame.locator('.map-tooltip').innerText()}`);
  await shot('panel-feature-map');
  console.log(`# feature map shown again: ${await showMapAgain(panelFrame)}`);
});

step('Find Top Clips for Feature… lists a feature\'s top clips as rows', async () => {
  await runCommand('AudioSAE: Find Top Clips for Feature…');
  const input = quickInput().locator('input.input');
  await input.waitFor({ timeout: T });
  await input.fill(String(firing));
  await page.keyboard.press('Enter');
  panelFrame = await frameWith('body[data-kind="topClips"] #panel-title');
  assert.match(await panelFrame.locator('#panel-title').innerText(), new RegExp(`Top clips of feature ${firing} `));
  const rows = panelFrame.locator('vscode-table-body vscode-table-row');
  await until(async () => (await rows.count()) > 0, 'top-clip rows');
  const maxes = (await rows.locator('vscode-table-cell:nth-child(2)').allInnerTexts()).map(Number);
  for (let i = 1; i < maxes.length; i++) assert.ok(maxes[i - 1] >= maxes[i], `not ranked by max: ${maxes}`);
  console.log(`# top clips of feature ${firing}: ${maxes.length} rows`);
  await shot('panel-top-clips');
});

/**
 * Runs Show Feature Map again with the map open: the panel draws the map kept from before (the output channel
 * says so) instead of computing it again. Returns the time from the command to the new first frame.
 */
async function showMapAgain(frame) {
  await frame.locator('#feature-map').evaluate((c) => c.setAttribute('data-before', ''));
  const t0 = Date.now();
  await runCommand('AudioSAE: Show Feature Map');
  await frame.locator('#feature-map:not([data-before])').waitFor({ timeout: T });
  await until(async () => (await frame.locator('#map-status').innerText()).includes('features shown'), 'the first frame of the map shown again');
  const ms = Date.now() - t0;
  await runCommand('Output: Show Output Channels...');
  await row('AudioSAE Corpus').click();
  const kept = page.locator('.output-view .view-line', { hasText: 'shown as computed earlier' }).last();
  await kept.waitFor({ timeout: T });
  const line = await kept.innerText();
  await runCommand('View: Hide Panel');
  return `${ms} ms from the command to the first frame (${line})`;
}

/** Drags across the map's canvas in `steps` moves; returns the panel's status line and last draw time. */
async function panMap(frame, steps = 40) {
  const box = await frame.locator('#feature-map').boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let i = 1; i <= steps; i++) await page.mouse.move(cx + 4 * i, cy + 2 * i);
  await page.mouse.up();
  return `${await frame.locator('#map-status').innerText()}; last draw ${await frame.locator('#map-status').getAttribute('data-draw-ms')} ms`;
}

if (MAP_SAE) {
  step('Open Corpus Results… on a store with 10 240 features; its map, panned (frame times printed)', async () => {
    await runCommand('View: Close All Editors');
    await runCommand('AudioSAE: Open Corpus Results…');
    const input = quickInput().locator('input.input');
    await input.waitFor({ timeout: T });
    await input.fill(MAP_STORE);
    await page.keyboard.press('Enter');
    await frameWith('body[data-kind="metrics"] #panel-title');
    const t0 = Date.now();
    await runCommand('AudioSAE: Show Feature Map');
    const f = await frameWith('body[data-kind="featureMap"] #map-status', 6 * T);
    await until(async () => (await f.locator('#map-status').innerText()).includes('features shown'), 'the first frame');
    console.log(`# feature map of ${MAP_STORE}: computed and drawn in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`# feature map pan: ${await panMap(f)}`);
    await shot('panel-feature-map-10k');
    console.log(`# feature map of 10 240 shown again: ${await showMapAgain(f)}`);
  });
}

step('the extension host stayed responsive during the run (event-loop delay, printed)', async () => {
  await runCommand('Output: Show Output Channels...');
  await row('AudioSAE Corpus').click();
  const line = page.locator('.output-view .view-line', { hasText: 'event-loop delay' }).last();
  await line.waitFor({ timeout: T });
  console.log(`# ${await line.innerText()}`);
  for (const what of ['frame', 'draw']) {
    const line = page.locator('.output-view .view-line', { hasText: `feature map ${what} ms` }).last();
    if (await line.count()) console.log(`# ${await line.innerText()}`);
  }
  await shot('corpus-output');
});

/** The median, 95th percentile and maximum of `ms`, rounded, as one line. */
function spread(ms) {
  const v = [...ms].sort((a, b) => a - b);
  const at = (q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  return v.length ? `median ${Math.round(at(0.5))} ms, p95 ${Math.round(at(0.95))} ms, max ${Math.round(v.at(-1))} ms (n=${v.length})` : 'no samples';
}

/**
 * Input → visible response in the audio editor: the pointer moves to another frame of the activation lanes and
 * the tooltip shows that frame (a `frame` request answered by the extension host, then drawn). One sample per
 * move, until `n` or `keepGoing()` says stop; each is the time from the move to the tooltip's new text.
 */
async function hoverDelays(wv, n, keepGoing = async () => true) {
  const box = await wv.locator('#waveform').boundingBox();
  const ms = [];
  for (let i = 0; i < n && (await keepGoing()); i++) {
    const before = await wv.locator('#tooltip').innerText().catch(() => '');
    const x = box.x + box.width * (0.1 + 0.8 * ((i * 7) % 23) / 23);
    const t0 = performance.now();
    await page.mouse.move(x, box.y + box.height / 2);
    const changed = await wv.waitForFunction((old) => {
      const t = document.getElementById('tooltip');
      return t && !t.hidden && /frame \d+/.test(t.textContent) && t.textContent !== old;
    }, before, { polling: 'raf', timeout: 10_000 }).then(() => true, () => false);
    if (changed) ms.push(performance.now() - t0);
  }
  return ms;
}

step('the audio editor answers input during a corpus run (hover → tooltip delay, printed with and without a run)', async () => {
  await runCommand('Notifications: Clear All Notifications');
  await runCommand('View: Show Explorer');
  await page.getByRole('treeitem', { name: /^example\.wav/ }).click();
  const wv = await frameWith('body[data-features] #waveform');
  const idle = await hoverDelays(wv, 30);
  console.log(`# editor input delay (hover → tooltip), no corpus run: ${spread(idle)}`);
  await startAnalysis(path.join(process.env.WORKSPACE, 'palette-delay.duckdb'));
  await until(async () => (await clipsDone()) >= 1, 'the corpus run under way');
  const running = async () => (await clipsDone()) >= 0 && (await toast('Corpus run done').count()) === 0;
  const busy = await hoverDelays(wv, 60, running);
  const stillRunning = await running();
  console.log(`# editor input delay (hover → tooltip), during a corpus run (${CLIPS} clips, 3 layers): ${spread(busy)}${stillRunning ? '' : '; the run ended before the last sample'}`);
  await shot('editor-during-corpus-run');
  if (stillRunning) {
    const progress = page.locator('.notifications-toasts .notification-list-item', { hasText: 'corpus run' }).first();
    await progress.hover();
    await progress.getByRole('button', { name: /Cancel/ }).click().catch(() => {});
  }
});

if (MAP_SAE) {
  // Last: a reload starts a new output channel, which the steps before read.
  step('after a window reload, the 10 240-point map is drawn from the kept copy, not from another t-SNE', async () => {
    await runCommand('Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: T });
    await runCommand('AudioSAE: Open Corpus Results…');
    await quickInput().locator('input.input').waitFor({ timeout: T });
    await quickInput().locator('input.input').fill(MAP_STORE);
    await page.keyboard.press('Enter');
    await frameWith('body[data-kind="metrics"] #panel-title');
    const t1 = Date.now();
    await runCommand('AudioSAE: Show Feature Map');
    const g = await frameWith('body[data-kind="featureMap"] #map-status', T);
    await until(async () => (await g.locator('#map-status').innerText()).includes('10240 of 10240 features shown'), 'the first frame after the reload');
    const ms = Date.now() - t1;
    await runCommand('Output: Show Output Channels...');
    await row('AudioSAE Corpus').click();
    await page.locator('.output-view .view-line', { hasText: 'shown as computed earlier' }).last().waitFor({ timeout: T });
    console.log(`# feature map of 10 240 after a window reload: ${ms} ms from the command to the first frame, kept from before the reload`);
    await runCommand('View: Hide Panel');
  });
}
