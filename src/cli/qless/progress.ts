/**
 * Progress of a long operation, on stderr so stdout keeps only the result:
 * a bar on a terminal, and otherwise (a log file, CI) a plain count at each
 * tenth of the way, so a log shows progress without a line per batch.
 * cli-progress is loaded only when a bar is drawn.
 */

export interface Progress {
  update(done: number): void;
  /** End the display at `done` (less than the total when the operation failed). */
  stop(done: number): void;
}

export async function progress(stream: NodeJS.WriteStream, total: number, noun: string): Promise<Progress> {
  if (stream.isTTY) {
    const { default: cliProgress } = await import('cli-progress');
    const bar = new cliProgress.SingleBar(
      { stream, format: `${noun} [{bar}] {percentage}% {value}/{total} | {duration_formatted}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (done) => bar.update(done),
      stop: (done) => {
        bar.update(done);
        bar.stop();
      },
    };
  }
  let tenths = 0;
  let printed = -1;
  const print = (done: number): void => {
    if (done === printed) return;
    printed = done;
    stream.write(`${noun} ${done}/${total}\n`);
  };
  return {
    update(done) {
      if (done >= total) return; // the final count is printed by stop()
      const reached = Math.floor((done * 10) / total);
      if (reached > tenths) {
        tenths = reached;
        print(done);
      }
    },
    stop: (done) => print(done),
  };
}
