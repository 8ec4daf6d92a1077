/**
 * The published types: `npm run build` emits .d.ts files, our declarations
 * contain no `any`, and a strict consumer compiled against dist/ gets real
 * types everywhere (each `@ts-expect-error` below would be an unused
 * directive, hence an error, if the type it probes were `any`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

const CONSUMER = String.raw`
import * as qless from 'qless-ts';

type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T> = IsAny<T> extends true ? never : true;
function notAny<T>(_value: T, _proof: NotAny<T>): void {}

const client = qless.client('redis://127.0.0.1:1', { workerName: 'w', lazyConnect: true });
const queue = client.queue('q');

async function consume(): Promise<void> {
  const jid = await queue.put('a.B', { x: 1 }, { priority: 1, tags: ['t'], delay: 0, retries: 0, depends: [], jid: 'j' });
  notAny(jid, true);
  const one = await queue.pop();
  notAny(one, true);
  const many = await queue.pop(20);
  notAny(many, true);
  const peeked = await queue.peek(5);
  notAny(peeked, true);
  if (!one) return;
  const job: qless.Job = one;
  notAny(job.jid, true);
  notAny(job.klass, true);
  notAny(job.queue, true);
  notAny(job.state, true);
  notAny(job.priority, true);
  notAny(job.tags, true);
  notAny(job.worker, true);
  notAny(job.expires, true);
  notAny(job.ttl, true);
  notAny(job.retries, true);
  notAny(job.remaining, true);
  notAny(job.history, true);
  notAny(job.history[0]?.when, true);
  notAny(job.dependencies, true);
  notAny(job.dependents, true);
  notAny(job.failure, true);
  notAny(job.tracked, true);
  notAny(job.spawnedFromJid, true);
  notAny(job.data, true);
  notAny(job.data['x'], true);
  notAny(job.signal, true);
  notAny(job.sandbox, true);
  notAny(job.outcome, true);
  notAny(job.settled, true);
  job.data.collected = 12;

  // @ts-expect-error a number is not a klass string
  const wrongKlass: number = job.klass;
  // @ts-expect-error state is a union of state names
  const wrongState: 'nope' = job.state;
  // @ts-expect-error data values are JSON, not functions
  job.data.f = () => 1;
  // @ts-expect-error expires is a number
  const wrongExpires: string = job.expires;
  void wrongKlass; void wrongState; void wrongExpires;

  notAny(await job.heartbeat(), true);
  const done: qless.CompleteResult = await job.complete('next', { delay: 30, depends: ['x'] });
  notAny(done, true);
  notAny(await job.fail('g', 'm'), true);
  notAny(await job.retry(0, 'g', 'm'), true);
  notAny(await job.cancel(), true);
  notAny(await job.track(), true);
  notAny(await job.tag('a', 'b'), true);
  await job.undepend({ all: true });
  await job.undepend('a', 'b');
  await job.setPriority(0);
  notAny(await job.requeue('other', { delay: 1 }), true);
  await job.log('msg', { k: 1 });
  // @ts-expect-error log data must be an object
  await job.log('msg', 5);

  const found = await client.jobs.get('x');
  notAny(found, true);
  if (found instanceof qless.RecurringJob) {
    notAny(found.interval, true);
    notAny(await found.next(), true);
    await found.update({ interval: 10, priority: 1 });
  } else if (found) {
    notAny(found.remaining, true);
  }
  const several = await client.jobs.get('a', 'b');
  const firstOfSeveral: qless.Job | undefined = several[0];
  void firstOfSeveral;
  // @ts-expect-error two jids give Job[], not a single job
  const notSingle: qless.Job | null = await client.jobs.get('a', 'b');
  void notSingle;

  notAny(await client.jobs.failed(), true);
  notAny((await client.jobs.failed('g', 0, 25)).jobs, true);
  notAny(await client.jobs.tracked(), true);
  notAny(await client.jobs.tagged('t'), true);
  notAny(await client.jobs.complete(), true);
  notAny(await client.queues.counts(), true);
  notAny(await client.workers.counts(), true);
  notAny(await client.workers.get('w'), true);
  notAny(await client.config.get('heartbeat'), true);
  notAny(await client.config.all(), true);
  notAny(await queue.counts(), true);
  notAny((await queue.stats()).wait.histogram, true);
  notAny(await queue.jobs.running(), true);
  notAny(await queue.length(), true);
  notAny(await client.tags(), true);
  notAny(await client.unfail('g', 'q'), true);
  notAny(await client.call('queues'), true);

  client.events.on('completed', (jid) => notAny(jid, true));
  client.events.on('log', (event) => {
    notAny(event, true);
    if (event.event === 'advanced') notAny(event.to, true);
    // @ts-expect-error 'to' only exists on advanced events
    void event.to;
  });
  client.events.onWorker((event) => notAny(event.jid, true));
  // @ts-expect-error unknown event names are refused
  client.events.on('nope', () => undefined);
  await client.events.listen();
  await client.events.close();

  notAny(qless.parseKlass('a.B'), true);
  notAny(qless.klassCandidates('a.B', ['/r']), true);
  try {
    await job.heartbeat();
  } catch (error) {
    if (error instanceof qless.LostLockError) {
      notAny(error.jid, true);
      notAny(error.code, true);
    }
  }
  await client.close();
}
void consume;
`;

function run(file: string, argv: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(file, argv, { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr });
    });
  });
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

describe('published types', () => {
  it('npm run build emitted a .d.ts for every module', () => {
    for (const file of ['index', 'client', 'queue', 'job', 'recurring', 'jobs', 'config', 'workers', 'events', 'errors', 'types', 'klass', 'wire']) {
      expect(existsSync(join(DIST, `${file}.d.ts`)), `${file}.d.ts`).toBe(true);
    }
  });

  it('our declarations never say any', () => {
    const offenders = readdirSync(DIST)
      .filter((f) => f.endsWith('.d.ts'))
      .flatMap((f) => stripComments(readFileSync(join(DIST, f), 'utf8')).split('\n').filter((line) => /\bany\b/.test(line)).map((line) => `${f}: ${line.trim()}`));
    expect(offenders).toEqual([]);
  });

  it('a strict consumer gets no any from our types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qless-types-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'qless-ts'), 'dir');
      symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'],
          strict: true, noImplicitAny: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true,
          noEmit: true, skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }));
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const { code, output } = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
      expect(output).toBe('');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
