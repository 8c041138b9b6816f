/**
 * The words of a corpus run in the window (no `vscode` import; unit-tested): the progress notification's line
 * (clips done/total, audio-hours per hour, ETA), the closing message, and what the progress bar advances by.
 */
import type { CorpusProgress, CorpusRunSummary } from '../../engine/corpus/run.ts';
import type { JobProgress } from '../../shared/jobProtocol.ts';

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.round(seconds)} s`;
}

/** Audio seconds per second of wall time, which is audio-hours per hour. */
export function audioRate(p: Pick<CorpusProgress, 'audioSecondsDone' | 'elapsedS'>): number {
  return p.elapsedS > 0 ? p.audioSecondsDone / p.elapsedS : 0;
}

/** Time left at the rate of the clips processed so far (skipped clips cost nothing); undefined before any. */
export function etaSeconds(p: CorpusProgress): number | undefined {
  if (p.processed === 0) return undefined;
  return (p.elapsedS / p.processed) * (p.clipsTotal - p.clipsDone);
}

export function progressMessage(p: JobProgress): string {
  switch (p.kind) {
    case 'stage':
      return p.message;
    case 'download': {
      const pct = p.total > 0 ? ` (${Math.round((100 * p.bytes) / p.total)} %)` : '';
      return `downloading ${p.file}${pct}`;
    }
    case 'corpus': {
      const c = p.progress;
      const eta = etaSeconds(c);
      const parts = [`clips ${c.clipsDone}/${c.clipsTotal}`];
      if (c.skipped) parts.push(`${c.skipped} already stored`);
      if (c.failed) parts.push(`${c.failed} failed`);
      parts.push(`${audioRate(c).toFixed(1)} audio-h/h`);
      if (eta !== undefined) parts.push(`ETA ${duration(eta)}`);
      return parts.join(' · ');
    }
  }
}

/** Percent of the clips done (the notification's bar). */
export function percentDone(p: CorpusProgress): number {
  return p.clipsTotal > 0 ? (100 * p.clipsDone) / p.clipsTotal : 100;
}

export function summaryMessage(s: CorpusRunSummary): string {
  const what = `${s.processed} run, ${s.skipped} already stored${s.removed ? `, ${s.removed} removed` : ''}${s.failed.length ? `, ${s.failed.length} failed` : ''}`;
  if (s.cancelled) return `Corpus run stopped: ${what} of ${s.clips} clips. Run it again to resume where it stopped.`;
  return `Corpus run done: ${s.clips} clips (${what}), ${duration(s.audioSeconds)} of audio at ${audioRate({ audioSecondsDone: s.audioSeconds, elapsedS: s.elapsedS }).toFixed(1)} audio-h/h.`;
}
