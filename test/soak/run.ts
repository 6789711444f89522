import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { ERROR_TYPES, ErrorBodySchema } from '../../src/shared/errors';
import { startHostileBackend, type HostileMode } from '../fixtures/hostileBackend';
import { httpRequest, openSocket, rawRequest, type RawAnswer } from '../fixtures/rawHttp';
import { startServerProcess, type ServerProcess } from './serverProcess';

/**
 * `npm run test:soak [-- --seconds 90]`: the attack run of issue 12 as a bounded script, on
 * loopback only. A real `npm run serve` process gets malformed HTTP, hostile headers and bodies,
 * wrong tokens, slow bodies, connection floods, then traffic while the backend cycles through its
 * hostile modes (endless lines, dripped JSON, huge frames to clients that do not read, huge
 * headers and error bodies, random models). Every answer must be in the contract's shape with an
 * `X-Request-Id`; malformed requests must never get a 5xx; the server must not crash.
 * Prints the figures and exits non-zero when any of those fail; `--write-results` also puts them
 * in bench/RESULTS.md's "Soak" section.
 */
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '90' }, 'write-results': { type: 'boolean' } } });
const seconds = Math.min(120, Math.max(10, Number(values.seconds)));
const TOKEN = 'soak-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

const counts = { tried: 0, answered: 0, closedUnanswered: 0, crashes: 0, fiveXxMalformed: 0, fiveXxBackend: 0, internal: 0, outside: 0 };
const outsideSamples: string[] = [];
let stderrTail = '';

function noteOutside(what: string): void {
  counts.outside += 1;
  if (outsideSamples.length < 5) outsideSamples.push(what.slice(0, 300));
}

/** Error answers: the taxonomy body, its id equal to the header. */
function checkError(status: number, requestId: string | undefined, body: string, context: string): void {
  let parsed;
  try {
    parsed = ErrorBodySchema.safeParse(JSON.parse(body));
  } catch {
    parsed = null;
  }
  if (!parsed?.success || requestId === undefined || parsed.data.error.request_id !== requestId) {
    noteOutside(`${context}: ${status} ${body}`);
    return;
  }
  if (parsed.data.error.type === 'internal') counts.internal += 1;
}

/** One answer to a request we sent on purpose malformed or hostile. */
function checkMalformedAnswer(answer: RawAnswer | null, context: string): void {
  if (answer === null) return; // the server closed without answering (e.g. the client vanished)
  counts.answered += 1;
  // The dashboard page (or its "not built yet" page) is HTML for browsers, not an API answer.
  if ((answer.headers['content-type'] ?? '').startsWith('text/html')) return;
  if (answer.status >= 500) counts.fiveXxMalformed += 1;
  if (answer.status >= 200 && answer.status < 300) {
    if (answer.headers['x-request-id'] === undefined) noteOutside(`${context}: 2xx without X-Request-Id`);
    return;
  }
  checkError(answer.status, answer.headers['x-request-id'], answer.body, context);
}

/** A stream answer: JSON frames with a known type, ending in `complete` or a taxonomy `error`. */
function checkStream(text: string, context: string): void {
  const frames = text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => {
      try {
        return JSON.parse(line.slice(6)) as { type?: string; error_type?: string };
      } catch {
        return { type: 'unparseable' };
      }
    });
  const last = frames.at(-1);
  const known = frames.every((f) => ['status', 'step', 'delta', 'complete', 'error'].includes(f.type ?? ''));
  const ends = last?.type === 'complete' || (last?.type === 'error' && (ERROR_TYPES as readonly string[]).includes(last.error_type ?? ''));
  if (!known || !ends) noteOutside(`${context}: stream ended with ${JSON.stringify(last)}`);
  if (last?.type === 'error' && last.error_type === 'internal') counts.internal += 1;
}

const rand = (n: number): number => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[rand(items.length)] as T;
const randomText = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(32 + rand(95))).join('');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests a fuzzer or a hostile page would send. Each returns bytes to send on a fresh connection. */
const MALFORMED: Array<() => { bytes: string | Buffer; context: string }> = [
  () => ({ bytes: Buffer.from(Array.from({ length: 1 + rand(300) }, () => rand(256))), context: 'random bytes' }),
  () => ({ bytes: `${randomText(20)}\r\n\r\n`, context: 'garbage request line' }),
  () => ({ bytes: httpRequest('GET', '/api/diffusion/health', { ...AUTH, 'X-Big': 'b'.repeat(20_000 + rand(50_000)) }), context: 'headers too large' }),
  () => ({ bytes: httpRequest('GET', `/api/diffusion/${'x'.repeat(70_000)}`, AUTH), context: 'URL too long' }),
  () => ({ bytes: httpRequest('GET', pick(['/%ff', '/%', '/api/%zz', '/%c0%af']), AUTH), context: 'undecodable URL' }),
  () => ({ bytes: `GET /api/diffusion/health HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`, context: 'no Host' }),
  () => ({ bytes: httpRequest('GET', 'http://evil.example/api/diffusion/health', AUTH), context: 'absolute-form foreign' }),
  () => ({
    bytes: httpRequest('GET', '/api/diffusion/health', { ...AUTH, Host: pick(['evil.com', 'attacker:7000', '127.0.0.1.nip.io', '']) }),
    context: 'foreign Host',
  }),
  () => ({
    bytes: httpRequest('GET', '/api/diffusion/metrics', pick<Record<string, string>>([{}, { Authorization: 'Bearer wrong' }, { Authorization: 'Basic abc' }])),
    context: 'wrong token',
  }),
  () => ({ bytes: httpRequest('GET', '/api/diffusion/metrics', { Authorization: `bEaReR ${TOKEN}` }), context: 'bearer case' }),
  () => ({
    bytes: httpRequest(
      'POST',
      `/api/diffusion/${pick(['generate', 'infill', 'generate/stream'])}`,
      { ...AUTH, 'Content-Type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) },
      'prompt=x',
    ),
    context: 'non-JSON body',
  }),
  () => ({
    bytes: httpRequest(
      'POST',
      '/api/diffusion/generate',
      { ...AUTH, 'Content-Type': 'application/json' },
      pick(['{', '[]', 'null', '{"prompt":5}', `{"prompt":"${randomText(10).replace(/["\\]/g, '')}","top_p":9}`, randomText(50)]),
    ),
    context: 'invalid JSON body',
  }),
  () => ({
    bytes: httpRequest(
      'POST',
      '/api/diffusion/generate',
      { ...AUTH, 'Content-Type': 'application/json' },
      JSON.stringify({ prompt: 'x', model_id: pick([randomText(30), `m-${rand(1e9)}`, 'a'.repeat(300)]) }),
    ),
    context: 'random model id',
  }),
  () => ({
    bytes: httpRequest('POST', '/api/diffusion/generate', { ...AUTH, 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' }, '{"prompt":"x"}'),
    context: 'cross-site',
  }),
  () => ({
    bytes: httpRequest(
      'POST',
      '/api/diffusion/generate',
      { ...AUTH, 'Content-Type': 'application/json' },
      JSON.stringify({ prompt: 'x'.repeat(1024 * 1024 + 10) }),
    ),
    context: 'body too large',
  }),
  () => ({ bytes: httpRequest(pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']), '/api/diffusion/generate', AUTH), context: 'wrong method' }),
  () => ({
    bytes: httpRequest('GET', pick(['/', '/index.html', '/assets/x.js', '/nope', '/metrics', '/api/monitor/app-info']), rand(2) ? AUTH : {}),
    context: 'static and API paths',
  }),
  () => ({
    bytes: `POST /api/diffusion/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: abc\r\n\r\n`,
    context: 'bad Content-Length',
  }),
  () => ({
    bytes: `POST /api/diffusion/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n`,
    context: 'bad chunk',
  }),
];

async function fuzzOne(url: string): Promise<void> {
  const { bytes, context } = pick(MALFORMED)();
  counts.tried += 1;
  try {
    checkMalformedAnswer(await rawRequest(url, bytes), context);
  } catch {
    // A reset after a refusal is an answer of sorts; only wrong answers count.
  }
}

/** A client that leaves mid-body, and one that stalls its body until the request timeout. */
async function leaveMidBody(url: string, stall: boolean): Promise<void> {
  counts.tried += 1;
  const socket = await openSocket(url);
  socket.on('error', () => undefined);
  const head = `POST /api/diffusion/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"prompt":"sl`;
  if (stall) {
    checkMalformedAnswer(await rawRequest(url, head, socket), 'stalled body');
    socket.destroy();
    return;
  }
  socket.write(head);
  await sleep(20);
  socket.destroy();
}

/** Opens more connections than the cap at once; the surplus must get a 429 in the contract shape. */
async function connectionFlood(url: string, n: number): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: n }, () => openSocket(url).catch(() => null)));
  const answers = await Promise.all(
    sockets.map(async (socket) => {
      if (socket === null) return;
      counts.tried += 1;
      socket.on('error', () => undefined);
      checkMalformedAnswer(await rawRequest(url, httpRequest('GET', '/api/diffusion/health', AUTH), socket), 'connection flood');
    }),
  );
  void answers;
  for (const socket of sockets) socket?.destroy();
}

async function backendTraffic(server: ServerProcess, pool: Pool, mode: HostileMode): Promise<void> {
  const stream = rand(2) === 0;
  const path = `/api/diffusion/${pick(['generate', 'infill'])}${stream ? '/stream' : ''}`;
  const body = path.includes('infill') ? { prefix: 'def f():', suffix: 'return 1' } : { prompt: 'hello', user_id: `u${rand(4)}` };
  counts.tried += 1;
  try {
    const answer = await pool.request({ method: 'POST', path, headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await answer.body.text();
    counts.answered += 1;
    const id = answer.headers['x-request-id'];
    const requestId = typeof id === 'string' ? id : undefined;
    if (answer.statusCode >= 500) counts.fiveXxBackend += 1;
    if (answer.statusCode === 200 && stream) checkStream(text, `${mode} ${path}`);
    else if (answer.statusCode !== 200) checkError(answer.statusCode, requestId, text, `${mode} ${path}`);
  } catch (error) {
    // No answer at all (the connection closed under a reused keep-alive socket): not an answer
    // outside the taxonomy, but counted and shown.
    if (server.exited() === null) {
      counts.closedUnanswered += 1;
      if (outsideSamples.length < 5) outsideSamples.push(`closed without an answer: ${mode} ${path}: ${(error as Error).message}`);
    }
  }
}

/** A stream client that never reads while the backend pushes huge frames, then leaves. */
async function nonReader(url: string): Promise<void> {
  counts.tried += 1;
  const socket = await openSocket(url);
  socket.on('error', () => undefined);
  const body = '{"prompt":"x"}';
  socket.write(httpRequest('POST', '/api/diffusion/generate/stream', { ...AUTH, 'Content-Type': 'application/json' }, body));
  socket.pause();
  await sleep(3000);
  socket.destroy();
}

/** Replaces (or appends) the "Soak" section of bench/RESULTS.md. */
function writeResults(lines: string[]): void {
  const path = join(import.meta.dirname, '../../bench/RESULTS.md');
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const section = [
    '## Soak',
    '',
    `\`npm run test:soak\` on ${new Date().toISOString().slice(0, 10)} (${process.platform}/${process.arch}, Node ${process.version}, a 2-core machine shared with other work):`,
    '',
    '```',
    ...lines,
    '```',
    '',
  ].join('\n');
  const start = previous.indexOf('## Soak');
  const end = start === -1 ? -1 : previous.indexOf('\n## ', start + 1);
  const next = start === -1 ? `${previous.trimEnd()}\n\n${section}` : `${previous.slice(0, start)}${section}${end === -1 ? '' : previous.slice(end + 1)}`;
  writeFileSync(path, next);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'diffusion-soak-'));
  const hostile = await startHostileBackend({ mode: 'normal', lineBytes: 32 * 1024 * 1024, dripMs: 5, frames: 200, errorBodyBytes: 32 * 1024 * 1024 });
  const serverArgs = [
    '--db',
    join(dir, 'soak.db'),
    '--backend',
    hostile.url,
    '--token',
    TOKEN,
    '--timeout',
    '2',
    '--request-timeout',
    '2',
    '--max-connections',
    '200',
  ];
  const start = (): Promise<ServerProcess> => startServerProcess(serverArgs, { stderr: (text) => (stderrTail = (stderrTail + text).slice(-2000)) });
  let server = await start();
  await sleep(500);
  const idleMb = server.rssMb();
  let peakMb = idleMb;
  const until = Date.now() + seconds * 1000;
  const fuzzUntil = Date.now() + seconds * 400;

  const watch = setInterval(() => {
    peakMb = Math.max(peakMb, server.peakMb());
    const exit = server.exited();
    if (exit !== null) {
      counts.crashes += 1;
      process.stderr.write(`soak: the server exited (${exit.code ?? exit.signal}); last output:\n${stderrTail}\n`);
      clearInterval(watch);
    }
  }, 100);

  // Phase 1: malformed and hostile requests, 16 at a time, plus slow bodies and floods.
  let floods = 0;
  const fuzzers = Array.from({ length: 16 }, async (_, lane) => {
    while (Date.now() < fuzzUntil && server.exited() === null) {
      if (lane === 0 && rand(50) === 0) await leaveMidBody(server.url, rand(4) === 0);
      else if (lane === 1 && floods < 3 && rand(200) === 0) {
        floods += 1;
        await connectionFlood(server.url, 260);
      } else await fuzzOne(server.url);
    }
  });
  await Promise.all(fuzzers);
  const fuzzPeakMb = server.peakMb();
  const modePeaks: string[] = [];

  // Phase 2: traffic while the backend cycles through its hostile modes.
  const modes: HostileMode[] = ['normal', 'endlessLine', 'dripJson', 'hugeFrames', 'hugeHeaders', 'hugeErrorBody', 'randomModel'];
  const slice = (until - Date.now()) / modes.length;
  const pool = new Pool(server.url, { connections: 8 });
  for (const mode of modes) {
    if (server.exited() !== null) break;
    hostile.setMode(mode);
    server.resetPeak();
    const sliceEnd = Date.now() + slice;
    const lanes = Array.from({ length: 6 }, async (_, lane) => {
      while (Date.now() < sliceEnd && server.exited() === null) {
        if (mode === 'hugeFrames' && lane === 0) await nonReader(server.url);
        else await backendTraffic(server, pool, mode);
      }
    });
    await Promise.all(lanes);
    modePeaks.push(`${mode} ${server.peakMb().toFixed(0)}`);
  }
  await pool.close();
  clearInterval(watch);
  peakMb = Math.max(peakMb, server.peakMb());
  const crashedAtEnd = server.exited() !== null;
  if (!crashedAtEnd) await server.stop();
  else server = await start().then(async (s) => (await s.stop(), s));
  await hostile.close();
  rmSync(dir, { recursive: true, force: true });

  const lines = [
    `soak: ${seconds} s on loopback against npm run serve (token, --timeout 2, --request-timeout 2, --max-connections 200)`,
    `requests tried: ${counts.tried} (answered: ${counts.answered}; connections closed without an answer: ${counts.closedUnanswered})`,
    `crashes: ${counts.crashes}`,
    `5xx to malformed requests: ${counts.fiveXxMalformed}`,
    `5xx from hostile backends (502/504 expected): ${counts.fiveXxBackend}`,
    `internal errors: ${counts.internal}`,
    `answers outside the taxonomy: ${counts.outside}`,
    `peak RSS: ${peakMb.toFixed(0)} MB (idle ${idleMb.toFixed(0)} MB; malformed requests ${fuzzPeakMb.toFixed(0)}; per backend mode: ${modePeaks.join(', ')})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const sample of outsideSamples) process.stdout.write(`  sample: ${sample}\n`);
  if (values['write-results'] === true) writeResults(lines);
  const failed = counts.crashes > 0 || counts.fiveXxMalformed > 0 || counts.outside > 0 || counts.internal > 0;
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
