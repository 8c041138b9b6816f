// The AudioSAE sidebar in a real VS Code (code-server + chromium, started by test/e2e/run.mjs, which also builds
// the store corpus.duckdb in the workspace with the CLI): the Runs tree, search by label and by annotation,
// the feature page (statistics, histogram, nearest features, acoustic profile, duplicates), playing a top clip, opening the editor at its time,
// an annotation that survives a window reload and a kill -9 of the extension host, and "fires in selection".
// Env from run.mjs: CS_URL, WORKSPACE, REPO, SHOTS, PW_CORE, PROFILE_ROOT.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { T, workbench } from './workbench.mjs';

const JOURNAL = path.join(process.env.WORKSPACE, 'corpus.duckdb.annotations.jsonl');
const NAME = 'e2e vowel-ish onset';
let page;
const { step, shot, runCommand, until, frameWith } = workbench('sidebar', { chromiumArgs: ['--autoplay-policy=no-user-gesture-required'], onPage: (p) => { page = p; } });

async function openSidebar() {
  await page.locator('.activitybar .action-item a[aria-label^="AudioSAE"], .activitybar .action-item[aria-label^="AudioSAE"] a').first().click({ timeout: T });
  await page.locator('.pane-header', { hasText: 'Runs' }).waitFor({ timeout: T });
}

async function search(text) {
  const f = await frameWith('#query');
  const before = Number((await f.locator('#status').getAttribute('data-seq')) ?? 0);
  await f.locator('#query').fill(text);
  await until(async () => Number((await f.locator('#status').getAttribute('data-seq')) ?? 0) > before, `results for "${text}"`);
  return { frame: f, count: Number(await f.locator('#status').getAttribute('data-count')) };
}

async function trustWorkspace() {
  await runCommand('Workspaces: Manage Workspace Trust');
  const trust = page.getByRole('button', { name: /^Trust( Folder)?$/ }).first();
  if (await trust.waitFor({ timeout: 10_000 }).then(() => true, () => false)) await trust.click();
  await page.locator('.workspace-trust-header.workspace-trust-trusted').waitFor({ timeout: T });
  await page.locator('.monaco-modal-editor-block').getByRole('button', { name: /^Close/ }).first().click().catch(() => {});
  await page.locator('.monaco-modal-editor-block').waitFor({ state: 'detached', timeout: T }).catch(() => {});
  await runCommand('View: Close All Editors');
}

/** Makes layer 2 of corpus.duckdb's run active in the Runs tree (the audio editor's layer in this workspace). */
async function selectCorpusLayer2() {
  const rows = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) }).locator('[role="treeitem"]');
  await until(async () => (await rows.evaluateAll((r) => r.map((e) => e.getAttribute('aria-label') ?? ''))).some((l) => /^corpus\.duckdb, 1 run/.test(l)), 'corpus.duckdb read in the Runs tree');
  await rows.filter({ hasText: 'whisper-small' }).first().waitFor({ timeout: T });
  // the first "Layer 2" row after corpus.duckdb (other stores may be listed too)
  const labels = await rows.evaluateAll((r) => r.map((e) => e.getAttribute('aria-label') ?? ''));
  const storeRow = labels.findIndex((l) => l.startsWith('corpus.duckdb'));
  const layerRow = labels.findIndex((l, i) => i > storeRow && /^Layer 2\b/.test(l));
  assert.ok(storeRow >= 0 && layerRow > storeRow, `Runs rows: ${labels.join(' | ')}`);
  await rows.nth(layerRow).click();
  await until(async () => (await rows.nth(layerRow).getAttribute('aria-label')) === 'Layer 2, active', 'layer 2 active');
  const f = await frameWith('#layer-info');
  await until(async () => /whisper-small · layer 2 · corpus\.duckdb/.test(await f.locator('#layer-info').innerText()), 'the search view on corpus.duckdb layer 2');
}

step('the sidebar lists the workspace store with its run and layers, the active layer marked', async () => {
  await page.goto(`${process.env.CS_URL}/?folder=${encodeURIComponent(process.env.WORKSPACE)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: T });
  await page.getByRole('treeitem', { name: /example\.wav/ }).waitFor({ timeout: T });
  await trustWorkspace();
  await openSidebar();
  await selectCorpusLayer2();
  const f = await frameWith('#layer-info');
  await until(async () => /layer 2/.test(await f.locator('#layer-info').innerText()), 'the search view on layer 2');
  assert.match(await f.locator('#layer-info').innerText(), /whisper-small · layer 2 · corpus\.duckdb · run \w{8} · 512 features/);
  await shot('sidebar-runs');
});

/** The aria-labels of the Runs tree's rows. */
async function runRows() {
  const rows = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) }).locator('[role="treeitem"]');
  return rows.evaluateAll((r) => r.map((e) => e.getAttribute('aria-label') ?? ''));
}

step('the active run follows the active audio editor: its backbone and layer mark the matching layer active', async () => {
  const rows = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) }).locator('[role="treeitem"]');
  // Layer 3 active by hand first, so that the editor (whisper-small layer 2 here) has something to change.
  await rows.filter({ hasText: /^Layer 3/ }).first().click();
  await until(async () => (await runRows()).includes('Layer 3, active'), 'layer 3 active by hand');
  await runCommand('View: Show Explorer');
  await page.getByRole('treeitem', { name: /^example\.wav/ }).click();
  const wv = await frameWith('body[data-features="whisper-small:2"] #layer-up');
  await openSidebar();
  await until(async () => (await runRows()).includes('Layer 2, active'), 'layer 2 active after the editor at layer 2 became active');
  await shot('sidebar-runs-follow-editor');
  await wv.locator('#layer-up').click();
  await wv.locator('body[data-features="whisper-small:3"]').waitFor({ timeout: T });
  await until(async () => (await runRows()).includes('Layer 3, active'), 'layer 3 active after the editor moved to layer 3');
  await wv.locator('#layer-down').click();
  await wv.locator('body[data-features="whisper-small:2"]').waitFor({ timeout: T });
  await until(async () => (await runRows()).includes('Layer 2, active'), 'layer 2 active again');
  console.log(`# runs follow the editor: ${(await runRows()).filter((l) => /^Layer/.test(l)).join(' | ')}`);
  await runCommand('View: Close All Editors');
});

let musicFeature;
step('search by label: label:music lists music features only, sorted by max activation', async () => {
  const { frame: f, count } = await search('label:music');
  assert.ok(count > 0, 'no music feature in the toy corpus');
  await f.locator('#sort').selectOption('maxAct');
  await f.locator('#sort-dir').click();
  await until(async () => (await f.locator('.result:not([hidden]) .badge').count()) > 0, 'rows');
  const badges = await f.locator('.result:not([hidden]) .badge').allInnerTexts();
  assert.ok(badges.every((b) => b.startsWith('music')), `non-music rows: ${badges.join(', ')}`);
  const maxes = (await f.locator('.result:not([hidden]) .max').allInnerTexts()).map(Number);
  // rows are positioned absolutely in list order; read them in order of their top
  const tops = await f.locator('.result:not([hidden])').evaluateAll((rows) => rows.map((r) => [parseFloat(r.style.top), Number(r.querySelector('.max').textContent)]));
  const inOrder = tops.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
  for (let i = 1; i < inOrder.length; i++) assert.ok(inOrder[i - 1] >= inOrder[i], `not sorted by max activation: ${inOrder}`);
  assert.equal(maxes.length, inOrder.length);
  const sparkPixels = await f.locator('.result:not([hidden]) canvas.spark').first().evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(sparkPixels > 10, 'the sparkline drew nothing');
  musicFeature = Number(await f.locator('.result:not([hidden])').evaluateAll((rows) => rows.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))[0].dataset.feature));
  await shot('sidebar-search-label');
});

let pageFrame;
step('clicking a result opens its feature page beside the editor: stats per domain, histogram, top clips, nearest features', async () => {
  const f = await frameWith('#query');
  const t0 = Date.now();
  await f.locator(`.result[data-feature="${musicFeature}"]`).click();
  pageFrame = await frameWith(`body[data-feature="${musicFeature}"] #title`);
  const openMs = Date.now() - t0;
  assert.equal(await pageFrame.locator('#title').innerText(), `Feature ${musicFeature}`);
  assert.match(await pageFrame.locator('#label').innerText(), /^music · grade \d$/);
  assert.equal(await pageFrame.locator('#domain-stats tr').count(), 4); // header + music, sounds, speech
  assert.ok(await pageFrame.locator('#histogram rect').count() >= 10);
  assert.ok(await pageFrame.locator('#top-clips tr[data-rank]').count() >= 1);
  assert.equal(await pageFrame.locator('#nearest li').count(), 10, await pageFrame.locator('#nearest-note').innerText().catch(() => 'no nearest list'));
  await page.locator('.tab', { hasText: `Feature ${musicFeature}` }).waitFor({ timeout: T });
  console.log(`# feature page open (click to drawn, toy store): ${openMs} ms; host read: ${await pageFrame.locator('#footer').innerText()}`);
  await pageFrame.locator('#compute-rf').click();
  await until(async () => (await pageFrame.locator('#receptive-field').getAttribute('data-drawn')) === 'true' || /Not computed/.test(await pageFrame.locator('#rf-status').innerText()), 'the receptive field');
  assert.equal(await pageFrame.locator('#receptive-field').getAttribute('data-drawn'), 'true', await pageFrame.locator('#rf-status').innerText());
  await shot('feature-page');
  await pageFrame.locator('#receptive-field').scrollIntoViewIfNeeded();
  await shot('feature-page-receptive-field');
});

step('the acoustic profile runs in the job worker with progress; duplicates are listed and link to their pages; both are kept', async () => {
  // Duplicates start with the page (a store query): a table of features with IoU > 0.5, or a line saying there are none.
  await until(async () => ['done', 'failed'].includes(await pageFrame.locator('#duplicates').getAttribute('data-state')), 'the duplicates');
  assert.equal(await pageFrame.locator('#duplicates').getAttribute('data-state'), 'done', await pageFrame.locator('#duplicates-status').innerText());
  const dupRows = await pageFrame.locator('#duplicates-table tr a[data-feature]').count();
  console.log(`# duplicates of feature ${musicFeature}: ${dupRows ? `${dupRows} features` : await pageFrame.locator('#duplicates-note').innerText()}`);
  // The profile is a button: the models run again over the top clips, in the job worker.
  await pageFrame.locator('#profile-start').scrollIntoViewIfNeeded();
  const t0 = Date.now();
  await pageFrame.locator('#profile-start').click();
  const seen = new Set();
  await until(async () => {
    seen.add((await pageFrame.locator('#profile-status').innerText()).trim());
    return ['done', 'failed'].includes(await pageFrame.locator('#profile').getAttribute('data-state'));
  }, 'the acoustic profile');
  assert.equal(await pageFrame.locator('#profile').getAttribute('data-state'), 'done', await pageFrame.locator('#profile-status').innerText());
  console.log(`# acoustic profile: ${Date.now() - t0} ms click to table; progress seen: ${[...seen].filter(Boolean).join(' | ')}`);
  assert.match(await pageFrame.locator('#profile-description').innerText(), new RegExp(`^feature ${musicFeature} `));
  assert.ok(await pageFrame.locator('#profile-table tr[data-quantity="loudness"]').count() === 1);
  assert.ok(await pageFrame.locator('#profile-table tr[data-quantity^="domain_"]').count() >= 1);
  await pageFrame.locator('#profile').scrollIntoViewIfNeeded();
  await shot('feature-page-profile');
  // A feature with duplicates (by the CLI's whole-layer pairs): the page lists the same partners, and a link opens one's page.
  const csv = execFileSync(process.execPath, [path.join(process.env.REPO, 'dist/cli.cjs'), 'corpus', 'duplicates', '--store', path.join(process.env.WORKSPACE, 'corpus.duckdb'), '--layer', '2'], { encoding: 'utf8' });
  const pairs = csv.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  assert.ok(pairs.length > 0, 'the e2e store has duplicate pairs on layer 2');
  const withDup = pairs[0][1];
  const partners = pairs.filter((p) => p[1] === withDup || p[2] === withDup).map((p) => (p[1] === withDup ? p[2] : p[1])).sort((a, b) => a - b);
  await runCommand('AudioSAE: Show Feature Page…');
  await page.locator('.quick-input-widget input.input').fill(String(withDup));
  await page.keyboard.press('Enter');
  let dupFrame = await frameWith(`body[data-feature="${withDup}"] #title`);
  await until(async () => (await dupFrame.locator('#duplicates').getAttribute('data-state')) === 'done', `the duplicates of feature ${withDup}`);
  const listed = (await dupFrame.locator('#duplicates-table a[data-feature]').evaluateAll((a) => a.map((x) => Number(x.dataset.feature)))).sort((a, b) => a - b);
  assert.deepEqual(listed, partners, `feature ${withDup}'s duplicates`);
  console.log(`# duplicates of feature ${withDup}: ${listed.join(', ')} (as the CLI's pairs)`);
  await dupFrame.locator('#duplicates').scrollIntoViewIfNeeded();
  await shot('feature-page-duplicates');
  await dupFrame.locator(`#duplicates-table a[data-feature="${listed[0]}"]`).click();
  dupFrame = await frameWith(`body[data-feature="${listed[0]}"] #title`);
  await until(async () => (await dupFrame.locator(`#duplicates-table a[data-feature="${withDup}"]`).count()) === 1, 'the link back in the partner\'s duplicates');
  // Back on the first feature, both answers are there at once.
  const f = await frameWith('#query');
  await f.locator(`.result[data-feature="${musicFeature}"]`).click();
  pageFrame = await frameWith(`body[data-feature="${musicFeature}"] #title`);
  assert.equal(await pageFrame.locator('#profile').getAttribute('data-state'), 'done', 'the profile is kept for the feature');
  await until(async () => (await pageFrame.locator('#duplicates').getAttribute('data-state')) === 'done', 'the duplicates kept');
});

step('a top clip plays: the host decodes 3 s around its maximum and the panel plays them', async () => {
  await pageFrame.locator('#top-clips tr[data-rank="1"] button.play').click();
  await until(async () => (await pageFrame.locator('body').getAttribute('data-played')) !== null || (await pageFrame.locator('body').getAttribute('data-play-error')) !== null, 'the snippet');
  assert.equal(await pageFrame.locator('body').getAttribute('data-play-error'), null);
  const [rank, samples, rate] = (await pageFrame.locator('body').getAttribute('data-played')).split(':');
  assert.equal(rank, '1');
  assert.equal(rate, '16000');
  assert.equal(Number(samples), 48000); // 3 s clips: the whole clip
});

step('"Open at time" opens the clip in the audio editor at the maximum', async () => {
  const clip = await pageFrame.locator('#top-clips tr[data-rank="1"] td.clip').innerText();
  await pageFrame.locator('#top-clips tr[data-rank="1"] button.open-at').click();
  await page.locator('.tab', { hasText: clip }).waitFor({ timeout: T });
  const fallback = await page.locator('.notification-list-item', { hasText: 'cannot jump to a time yet' }).count();
  console.log(`# open at time: ${fallback ? 'the editor has no audioSae.openClipAt (opened the clip only)' : 'audioSae.openClipAt opened the clip'}`);
  await shot('feature-page-open-at');
});

step('annotating saves as you type; the search finds the feature by its annotation and tag', async () => {
  await page.locator('.tab', { hasText: `Feature ${musicFeature}` }).click();
  pageFrame = await frameWith(`body[data-feature="${musicFeature}"] #ann-name`);
  await pageFrame.locator('#ann-name').fill(NAME);
  await pageFrame.locator('#ann-tags').fill('e2e, chord');
  await pageFrame.locator('#ann-notes').fill('Fires on the two-note chords.');
  await until(async () => (await pageFrame.locator('#ann-status').getAttribute('data-state')) === 'saved', 'the annotation saved');
  assert.match(await pageFrame.locator('#ann-status').innerText(), /^Saved /);
  const lines = fs.readFileSync(JOURNAL, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = lines.filter((l) => l.feature === musicFeature).at(-1);
  assert.equal(last.name, NAME);
  assert.deepEqual(last.tags, ['e2e', 'chord']);
  await shot('feature-page-annotated');
  const byText = await search('vowel-ish');
  assert.equal(byText.count, 1);
  assert.match(await byText.frame.locator('.result:not([hidden]) .id').first().innerText(), new RegExp(`^${musicFeature} · ${NAME}`));
  assert.equal((await search('#chord')).count, 1);
  await shot('sidebar-search-annotation');
});

/** Extension host processes of this test's code-server (found by the profile folder in their environment). */
function extensionHosts() {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /--type=extensionHost|extensionHostProcess/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0])).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(process.env.PROFILE_ROOT);
    } catch {
      return false;
    }
  });
}

step('the annotation survives a window reload and a kill -9 of the extension host mid-edit', async () => {
  await page.locator('.tab', { hasText: `Feature ${musicFeature}` }).click();
  pageFrame = await frameWith(`body[data-feature="${musicFeature}"] #ann-notes`);
  await pageFrame.locator('#ann-notes').fill('Fires on the two-note chords. Edited before the crash.');
  await until(async () => (await pageFrame.locator('#ann-status').getAttribute('data-state')) === 'saved', 'the edit saved');
  // Mid-edit: more typing that the debounce has not sent yet, then the host dies.
  await pageFrame.locator('#ann-notes').pressSequentially(' unsent', { delay: 10 });
  const hosts = extensionHosts();
  assert.ok(hosts.length >= 1, 'no extension host process found');
  for (const pid of hosts) process.kill(pid, 'SIGKILL');
  console.log(`# killed extension host ${hosts.join(', ')} with SIGKILL`);
  await page.waitForTimeout(1500);
  await runCommand('Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ timeout: T });
  await until(async () => extensionHosts().length > 0 && !extensionHosts().some((p) => hosts.includes(p)), 'a new extension host');
  await openSidebar();
  await selectCorpusLayer2();
  const byText = await search('vowel-ish');
  assert.equal(byText.count, 1, 'the annotation is gone after the crash');
  await runCommand('AudioSAE: Show Feature Page…');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill(String(musicFeature));
  await page.keyboard.press('Enter');
  pageFrame = await frameWith(`body[data-feature="${musicFeature}"] #ann-name`);
  await until(async () => (await pageFrame.locator('#ann-name').inputValue()) === NAME, 'the annotation name on the page');
  assert.equal(await pageFrame.locator('#ann-notes').inputValue(), 'Fires on the two-note chords. Edited before the crash.');
  await shot('annotation-after-kill');
});

step('"fires in editor selection" lists the features firing in the region selected in the audio editor', async () => {
  const clip = await pageFrame.locator('#top-clips tr[data-rank="1"] td.clip').innerText();
  await pageFrame.locator('#top-clips tr[data-rank="1"] button.open-at').click();
  await page.locator('.tab', { hasText: clip }).click({ timeout: T });
  const editor = await frameWith('body[data-features] #waveform');
  const box = await editor.locator('#waveform').boundingBox();
  // boundingBox is relative to the page's viewport, also inside nested frames
  const x0 = box.x + box.width * 0.1;
  const y = box.y + 10;
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move(x0 + box.width * 0.5, y, { steps: 5 });
  await page.mouse.up();
  await editor.locator('#region').waitFor({ state: 'visible', timeout: T });
  const f = await frameWith('#query');
  await f.locator('#query').fill('');
  await f.locator('#in-selection').check();
  await until(async () => /fire in|does not report|No region|selection is of/.test(await f.locator('#status').innerText()), 'the selection search');
  const status = await f.locator('#status').innerText();
  console.log(`# fires in selection: ${status}`);
  if (/fire in/.test(status)) assert.ok(Number(await f.locator('#status').getAttribute('data-count')) > 0);
  else assert.match(status, /does not report its selection/);
  await shot('sidebar-fires-in-selection');
  await f.locator('#in-selection').uncheck();
});
