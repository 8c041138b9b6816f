/**
 * One progress line on stderr: rewritten in place when stderr is a terminal, otherwise printed at most every
 * few seconds as plain lines (logs and CI read those). Nothing is printed for work that finishes quickly.
 */
export interface ProgressLine {
  update(text: string): void;
  done(): void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  const tty = stream.isTTY === true;
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - started < 1000 || now - last < (tty ? 200 : 5000)) return;
      last = now;
      shown = true;
      stream.write(tty ? `\r\x1b[2K${text}` : `${text}\n`);
    },
    done() {
      if (shown && tty) stream.write('\n');
    },
  };
}
