// Waiting in tests: a plain delay, polling until a condition holds, and a time limit on a promise. Every
// wait is bounded, so a behaviour that breaks fails the test instead of hanging the run.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Falsy = undefined | null | false;

/** Polls `check` every `everyMs` until it returns something truthy; throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | Falsy | Promise<T | Falsy>,
  what: string | (() => string),
  timeoutMs = 5000,
  everyMs = 10,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(everyMs);
  }
}

/** `p`, or a rejection after `ms`. */
export function within<T>(p: Promise<T>, what: string, ms = 4000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
